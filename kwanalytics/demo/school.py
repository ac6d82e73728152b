"""A realistic synthetic school year (`kwa demo`): exports in the formats schools really have, with known truth.

What it writes (DIR/data/raw, names, headers and encodings as agreed in the helpers' interfaces):

| file | profile | notes |
| --- | --- | --- |
| students.csv | generic | UTF-8, ISO dates, primary need spelled several ways, EHCP Y/N |
| targets.xlsx | generic | one sheet, EHCP/ILP targets in SEMH, Communication and Interaction, Cognition and Learning |
| target_ratings.csv | generic | Goal Attainment Scaling (-2..+2) about every half term, UK dates (dd/mm/yyyy) |
| sessions.csv | generic | "1:1"/"small group", "on site"/"community" (synonyms), costs, risk assessment ids |
| arbor_behaviour_incidents.csv | Arbor | UTF-8 with BOM, CRLF, "dd/mm/yyyy HH:MM", Yes/No, no Period column |
| arbor_interventions.csv | Arbor | UTF-8 with BOM, CRLF |
| contacts.csv | generic | cp1252 (Excel on Windows), with £ and curly quotes |
| budget.csv, risk_assessments.csv | generic | ISO dates |

and DIR/data/demo_truth.json: every pupil's planted kind (improves, no_change, escalation, cluster, time, place,
trigger, scattered, quiet) with its details, and the deliberate mistakes (file, row, column, value, kind).

School days come from the repository's schemas/term_dates.yaml (2025-09-03 .. 2026-07-21): nothing happens in a
holiday. The same seed gives byte-identical files (the .xlsx has fixed zip and document timestamps).

Generation is one pass over pupils (a few numpy calls each), then vectorised columns: 3,000 pupils take seconds.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from kwanalytics.calendar import from_term_dates
from kwanalytics.settings import load_settings
from kwanalytics.store import atomic_write, atomic_write_text, raw_dir

START, END = pd.Timestamp("2025-09-03"), pd.Timestamp("2026-07-21")
FIXED_TIME = datetime(2026, 1, 1, 0, 0, 0)  # the .xlsx's document and zip timestamps, for identical bytes

ARBOR_INCIDENT_HEADER = [
    "Behaviour Incident ID", "Student ID", "Student", "Incident Datetime", "Behaviour", "Location", "Lesson",
    "Severity", "Antecedent", "Narrative", "Action Taken", "Logged By Staff", "Parent Contacted",
    "Physical Intervention", "Restorative Conversation"]
ARBOR_INTERVENTION_HEADER = [
    "Intervention ID", "Student ID", "Student", "Intervention", "Start Datetime", "End Datetime", "Aims",
    "Success Criteria", "Outcome", "Staff"]

# How many of each planted kind for 60 pupils; scaled in proportion for other sizes (see planted_counts).
KIND_PER_60 = {"improves": 8, "no_change": 5, "escalation": 4, "cluster": 4, "time": 4, "place": 4, "trigger": 4,
               "scattered": 20}

# ---------------------------------------------------------------------------------------------------- words

# Invented pupils' names. No first name is also a surname, a staff name or a word the demo's texts use
# ("Summer" term, dining "Hall"), so that a test for "no other pupil's name in this report" means what it says.
FIRST_NAMES = """Aaliyah Aaron Abdul Adam Aisha Alfie Amara Amelia Archie Arlo Ava Ayaan Bella Billy Bobby Caleb
Callum Charlie Connor Daisy Dexter Dylan Eli Ella Elsie Emily Ethan Evie Ezra Finley Freddie Freya George Hamza
Harley Harrison Harvey Hollie Ibrahim Isaac Isla Jack Jacob Jake Jasmine Jayden Jenson Joel Joshua Jude Kai Kayden
Kian Kyle Lacey Layla Leo Lewis Lexi Liam Lily Logan Lola Louie Lucas Luca Maisie Malachi Maya Mia Millie Mohammed
Muhammad Nathan Nia Noah Ollie Oscar Paige Phoebe Poppy Priya Reggie Reuben Rory Rosie Ruby Ryan Sami Samuel
Scarlett Sienna Sofia Sonny Theo Toby Tommy Tyler Wiktor Yusuf Zac Zain Zara Zoe""".split()
SURNAMES = """Abbott Ahmed Ali Allen Armstrong Bailey Baker Barker Begum Bennett Booth Bradley Brooks Burton Butler
Campbell Carr Chapman Clarke Cole Collins Cooper Cox Dawson Dixon Doherty Douglas Edwards Ellis Evans Farrell Fisher
Fletcher Foster Fox Gallagher Gibson Gill Gordon Graham Grant Gray Green Harper Hart Hayes Henderson Hill Holmes
Hughes Hunt Iqbal Jackson James Jennings Johnson Jones Kaur Kelly Kennedy Khan King Knight Lane Lawrence Lloyd Marsh
Marshall Mason McCarthy Mills Mitchell Moore Murphy Murray Nowak Okafor O'Brien Owen Palmer Parker Pearce Powell
Quinn Reid Reynolds Richards Riley Robinson Rose Russell Saunders Scott Shah Sharp Simpson Singh Slater Spencer
Stevens Stone Sutton Taylor Thomson Walsh Ward Watson Webb Wells Wilkinson Wright Young""".split()
KEY_WORKERS = ["Amira Hussain", "Ben Carter", "Chloe Mensah", "Dan Whitfield", "Ellie Novak", "Femi Adeyemi",
               "Grace O'Neill", "Harry Lindqvist"]
TEACHERS = ["Mr Patel", "Ms Roberts", "Mrs Kowalski", "Mr Osei", "Miss Turner", "Mr Byrne", "Ms Achebe", "Mrs Hall"]
YEAR_GROUPS = ["Year 7", "Year 8", "Year 9", "Year 10", "Year 11", "Post-16"]
NEED_SPELLINGS = [("SEMH", 0.35), ("Social, emotional and mental health", 0.15), ("C&I", 0.15),
                  ("Communication & Interaction", 0.12), ("ASC", 0.13), ("Cognition & Learning", 0.05),
                  ("Social emotional and mental health", 0.05)]
SUBJECTS = ["Maths", "English", "Science", "Humanities", "Art", "Food Technology", "Computing", "PSHE", "Music"]

CATEGORIES = ["Low-level disruption", "Defiance", "Verbal abuse", "Unkind words to peers", "Leaving lesson",
              "Absconding", "Damage to property", "Physical aggression", "Bullying", "Self-harm", "Dysregulation",
              "Misuse of technology"]
CATEGORY_WEIGHTS = [0.2, 0.17, 0.12, 0.1, 0.1, 0.03, 0.04, 0.06, 0.03, 0.02, 0.1, 0.03]
PHYSICAL = {"Physical aggression", "Damage to property", "Self-harm"}
NON_PHYSICAL = [c for c in CATEGORIES if c not in PHYSICAL]
LOW_LEVEL = ["Low-level disruption", "Defiance", "Unkind words to peers", "Misuse of technology", "Leaving lesson"]
SEVERITY_RANGE = {"Low-level disruption": (1, 2), "Defiance": (1, 3), "Verbal abuse": (2, 3),
                  "Unkind words to peers": (1, 2), "Leaving lesson": (1, 3), "Absconding": (3, 4),
                  "Damage to property": (3, 4), "Physical aggression": (3, 5), "Bullying": (2, 3),
                  "Self-harm": (4, 5), "Dysregulation": (2, 4), "Misuse of technology": (1, 2)}
ANTECEDENTS = ["Demand placed", "Transition", "Peer conflict", "Unstructured time", "Sensory overload", "Told no",
               "Unexpected change", "Difficult work", "Home or outside issue"]
ANTECEDENT_WEIGHTS = [0.2, 0.14, 0.16, 0.1, 0.08, 0.1, 0.07, 0.1, 0.05]
LOCATIONS = ["Classroom", "Corridor", "Playground", "Dining hall", "Toilets", "Sensory room", "Minibus",
             "Community", "PE hall", "Reception"]
# Where an incident can happen in each part of the day (weights), so that place and time agree.
LESSON_PERIODS = ["Period 1", "Period 2", "Period 3", "Period 4", "Period 5"]
PERIOD_WEIGHTS = {"Before school": 0.05, "Period 1": 0.14, "Period 2": 0.15, "Break": 0.08, "Period 3": 0.15,
                  "Lunch": 0.12, "Period 4": 0.15, "Period 5": 0.13, "After school": 0.03}
LOCATION_BY_PART = {
    "lesson": {"Classroom": 0.66, "Corridor": 0.1, "PE hall": 0.06, "Toilets": 0.03, "Sensory room": 0.06,
               "Community": 0.04, "Reception": 0.05},
    "break": {"Playground": 0.45, "Dining hall": 0.3, "Corridor": 0.17, "Toilets": 0.08},
    "edge": {"Minibus": 0.55, "Reception": 0.3, "Corridor": 0.15},
}
PERIODS_AT = {  # the periods in which each location is used
    "Classroom": LESSON_PERIODS, "Corridor": list(PERIOD_WEIGHTS), "Playground": ["Break", "Lunch"],
    "Dining hall": ["Break", "Lunch"], "Toilets": LESSON_PERIODS + ["Break", "Lunch"],
    "Sensory room": LESSON_PERIODS, "Minibus": ["Before school", "After school"], "Community": LESSON_PERIODS,
    "PE hall": LESSON_PERIODS, "Reception": ["Before school", "After school"] + LESSON_PERIODS,
}
# Other spellings an MIS export really contains (all listed in schemas/vocabularies.yaml).
CATEGORY_SPELLINGS = {"Physical aggression": ["Assault", "Hitting", "Physical aggression to peer"],
                      "Low-level disruption": ["Disruption", "Off task", "Calling out"],
                      "Defiance": ["Refusal", "Non-compliance"], "Verbal abuse": ["Swearing", "Verbal aggression"],
                      "Dysregulation": ["Meltdown", "Distressed"], "Leaving lesson": ["Left lesson", "Out of class"],
                      "Self-harm": ["Self harm"], "Damage to property": ["Property damage", "Throwing objects"]}
LOCATION_SPELLINGS = {"Toilets": ["Toilet"], "Corridor": ["Corridors", "Hallway"], "Playground": ["Yard"],
                      "Dining hall": ["Canteen", "Lunch hall"], "Minibus": ["School bus", "Taxi"],
                      "Sensory room": ["Calm room"]}
ANTECEDENT_SPELLINGS = {"Demand placed": ["Task demand", "Instruction given"],
                        "Transition": ["Change of activity", "Moving between lessons"],
                        "Told no": ["Denied request"], "Peer conflict": ["Argument with peer"]}
ACTIONS = {"physical": ["Staff used a guide hold to move {p} to the calm room", "Moved to the sensory room to regulate",
                        "Phone call home; reflection with key worker next morning",
                        "Internal isolation for the afternoon"],
           "other": ["Reminder of expectations", "Time out in the calm room", "Reflection time with key worker",
                     "Loss of part of break", "Moved seat", "Offered a movement break", "Phone call home"]}
NARRATIVE = {  # (text before the pupil's first name, text after); PEER_NARRATIVE adds a peer's full name.
    "Low-level disruption": [("", " repeatedly called out and distracted others during the task.")],
    "Defiance": [("", " refused to start work and put head down after being asked three times."),
                 ("When asked to line up, ", " said no and walked away.")],
    "Verbal abuse": [("", " swore at staff when reminded about the phone policy."),
                     ("", " shouted abuse at the teacher and left the room.")],
    "Unkind words to peers": [("", " made unkind comments about another pupil's family.")],
    "Leaving lesson": [("", " left the lesson without permission and was found in the corridor.")],
    "Absconding": [("", " left the school site through the side gate; staff followed at a distance.")],
    "Damage to property": [("", " threw a chair and broke a display board.")],
    "Physical aggression": [("", " kicked out at staff when being supported to leave the room."),
                            ("", " hit another pupil on the arm during a disagreement.")],
    "Bullying": [("", " was reported for repeated name calling of a younger pupil.")],
    "Self-harm": [("", " scratched own arm with a pen lid; first aid given and DSL informed.")],
    "Dysregulation": [("", " became very distressed, crying and shouting, and needed time in the calm room."),
                      ("", " was overwhelmed by noise and hid under the table.")],
    "Misuse of technology": [("", " was filming other pupils on a phone during the lesson.")],
}
PEER_NARRATIVE = {
    "Physical aggression": ("", " pushed ", " into the lockers after an argument."),
    "Unkind words to peers": ("", " called ", " names during group work."),
    "Bullying": ("", " took ", "'s bag and would not give it back."),
    "Verbal abuse": ("", " swore at ", " across the classroom."),
    "Low-level disruption": ("", " kept distracting ", " and would not move seats."),
    "Defiance": ("", " refused to work with ", " and left the table."),
}
PROGRAMME_CATEGORIES = {  # what brings a pupil to each programme (entry criteria in schemas/settings.yaml)
    "Zones of Regulation": ["Dysregulation", "Verbal abuse", "Defiance"],
    "Anger Management": ["Physical aggression", "Verbal abuse", "Damage to property"],
    "Social Skills Group": ["Unkind words to peers", "Bullying", "Low-level disruption"],
    "Drawing and Talking": ["Dysregulation", "Self-harm", "Leaving lesson"],
    "Lego-based therapy": ["Unkind words to peers", "Low-level disruption", "Defiance"],
    "ELSA": ["Dysregulation", "Leaving lesson", "Verbal abuse"],
    "TIS 1:1": ["Dysregulation", "Absconding", "Verbal abuse"],
    "Forest School": ["Low-level disruption", "Leaving lesson", "Defiance"],
}
PROGRAMME_FORMAT = {"Social Skills Group": "small group", "Lego-based therapy": "small group",
                    "Anger Management": "small group", "Forest School": "small group"}
PROGRAMME_AIMS = {
    "Zones of Regulation": ("To recognise which zone they are in and choose a strategy",
                            "Uses a zones strategy with one prompt on 4 of 5 occasions"),
    "Anger Management": ("To notice early signs of anger and use a safe way out",
                         "No physical incidents for 6 school weeks"),
    "Social Skills Group": ("To take turns and repair friendships", "Joins group work without unkind words"),
    "Drawing and Talking": ("A safe space to process worries through drawing", "Fewer episodes of distress"),
    "Lego-based therapy": ("To collaborate in a role (engineer, supplier, builder)", "Completes a build as a team"),
    "ELSA": ("To build emotional literacy and self-esteem", "Names feelings and asks for help"),
    "TIS 1:1": ("Trauma informed relational support with a trusted adult", "Stays in lessons and on site"),
    "Forest School": ("To build confidence and co-operation outdoors", "Manages risk and shares tools safely"),
}
TIMES = [("time", "Monday", "Period 1"), ("time", "Friday", "Period 5"), ("time", "Wednesday", "Lunch"),
         ("time", "Tuesday", "Period 4"), ("time", "Thursday", "Break")]
PLACES = ["Toilets", "Minibus", "Dining hall", "PE hall"]
TRIGGERS = [("Transition", "Dysregulation"), ("Demand placed", "Defiance"), ("Peer conflict", "Physical aggression"),
            ("Told no", "Verbal abuse"), ("Sensory overload", "Dysregulation"),
            ("Unstructured time", "Unkind words to peers")]
CLUSTER_CATEGORIES = ["Dysregulation", "Absconding", "Verbal abuse", "Leaving lesson"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]

ONSITE_ACTIVITIES = {"Check-in": 0.3, "Emotional literacy": 0.15, "Social skills": 0.12, "Cooking": 0.1,
                     "Reading": 0.1, "Sensory circuit": 0.1, "Restorative conversation": 0.05,
                     "Lego-based therapy": 0.04, "Drawing and Talking": 0.04}
ONSITE_VENUES = ["Key work base", "Nurture room", "Sensory room", "Food tech room", "Library corner"]
COMMUNITY = {  # activity: (venue, venue cost per pupil in £)
    "Café visit": ("Costa, High Street", 4.50), "Bus travel": ("Number 12 bus to the town centre", 3.60),
    "Forest School": ("Hollins Wood Forest School", 12.00), "Swimming": ("Riverside Leisure Centre pool", 5.20),
    "Shopping": ("Tesco Extra, Mill Road", 6.00)}
STAFF_RATE_GBP_PER_HOUR = 18.0
GROUP_SIZE = 3
SESSION_NOTES = ["Settled quickly and stayed on task.", "Needed a movement break halfway through.",
                 "Talked about the weekend; calmer by the end.", "Used the zones chart without a prompt.",
                 "Reluctant to start; engaged once we went outside.", "Good eye contact and turn taking.",
                 "Tired today; short session.", "Paid for items independently and said thank you.", "", ""]
PEER_NOTES = [("Worked well alongside ", "."), ("Upset after falling out with ", " at break."),
              ("Chose to sit with ", " and shared the materials.")]
SEMH_TARGETS = [
    "By July 2026, {p} will name how they are feeling using the zones of regulation on 4 out of 5 check-ins.",
    "{p} will use an agreed calm-down strategy (breathing, movement break, time-out card) when becoming anxious, "
    "with no more than one adult prompt.",
    "{p} will stay in class for a full lesson on 4 days out of 5, asking for a break card when needed.",
    "{p} will repair a relationship after a conflict through a restorative conversation within the same day.",
    "{p} will tell a trusted adult when something at home or school is worrying them.",
]
CI_TARGETS = [
    "{p} will start and maintain a conversation with a peer for three turns in a structured activity.",
    "{p} will follow a two-step instruction given to the whole class without individual repetition.",
    "{p} will ask for help using a full sentence instead of leaving the task.",
    "{p} will use a visual timetable to prepare for changes in the day with one adult reminder.",
    "{p} will order and pay for an item in a café, speaking to the member of staff.",
]
CL_TARGETS = [
    "{p} will read a short functional text (a bus timetable or a menu) and answer two questions about it.",
    "{p} will use money to £10 and check the change in a real shop.",
    "{p} will write three connected sentences about a recent session with a word bank.",
]
RATING_EVIDENCE = ["Observed in check-ins this half term.", "Key worker and class teacher observations.",
                   "Seen on community visits.", "From session records and a pupil voice conversation.",
                   "Discussed at the half-termly review."]
CONTACT_PARTIES = [("Parent/carer", 0.25), ("Mum", 0.2), ("Dad", 0.1), ("Carer", 0.05), ("CAMHS", 0.1),
                   ("Social worker", 0.09), ("EP", 0.07), ("SALT", 0.05), ("School nurse", 0.04),
                   ("Virtual school", 0.03), ("SEN team", 0.02)]
CONTACT_METHODS = ["Phone call", "Email", "Meeting in school", "Home visit", "Letter", "Teams call"]
CONTACT_TEXT = {  # purpose: summaries (cp1252 characters: £ and curly quotes on purpose)
    "Weekly update": ["Mum said {p} was “much calmer” at home this week; agreed to keep the bedtime routine.",
                      "Positive call home about {p}’s week – used the calm room independently.",
                      "Dad asked about the £12.50 swimming contribution; agreed school will cover it."],
    "Incident follow-up": ["Discussed today’s incident; parent said {p} had a “rough night” before school.",
                           "Explained the restorative conversation; parent supportive and will talk to {p} at home."],
    "Referral": ["Referral discussed; waiting list about 14 weeks. Parent to call if things get worse.",
                 "Agency asked for the incident log and the latest ‘one page profile’."],
    "Annual review preparation": ["Gathered views for {p}’s annual review; parent wants “more time outdoors”.",
                                  "Shared the draft targets; parent agreed with the communication targets."],
    "Funding": ["Agreed £25 from the pupil budget for travel training bus passes.",
                "Discussed the £1,500 top-up and how the 1:1 hours are spent."],
}


# ---------------------------------------------------------------------------------------------------- result

@dataclass
class DemoResult:
    """What `kwa demo` wrote: exit code (always 0), the files and the planted truth."""

    exit_code: int = 0
    files: list[Path] = field(default_factory=list)
    truth: dict = field(default_factory=dict)


def planted_counts(students: int) -> dict[str, int]:
    """Pupils of each planted kind: the 60-pupil mix scaled in proportion, at least 1 each from 20 pupils.

    Whatever is left over is "quiet" (0-1 incidents). Fewer than 20 pupils: only as many as fit, in order.
    """
    counts = {}
    left = students
    for kind, per60 in KIND_PER_60.items():
        n = int(round(per60 * students / 60))
        if students >= 20:
            n = max(1, n)
        n = min(n, left)
        counts[kind] = n
        left -= n
    counts["quiet"] = left
    return counts


# ---------------------------------------------------------------------------------------------------- helpers

class _Incidents:
    """Incidents collected pupil by pupil as small integer arrays; -1 means "draw it later, vectorised"."""

    FIELDS = ("pupil", "day", "period", "location", "category", "antecedent", "severity")

    def __init__(self):
        self.parts = {f: [] for f in self.FIELDS}

    def add(self, pupil, days, **fixed):
        days = np.asarray(days, dtype=np.int64)
        n = len(days)
        if not n:
            return
        self.parts["pupil"].append(np.full(n, pupil, dtype=np.int64))
        self.parts["day"].append(days)
        for f in self.FIELDS[2:]:
            value = fixed.get(f, -1)
            self.parts[f].append(np.broadcast_to(np.asarray(value, dtype=np.int64), (n,)).copy())

    def arrays(self) -> dict[str, np.ndarray]:
        return {f: (np.concatenate(v) if v else np.zeros(0, dtype=np.int64)) for f, v in self.parts.items()}


def _spaced(rng, lo: int, hi: int, n: int, gap: int) -> np.ndarray:
    """``n`` sorted day indices in [lo, hi) with consecutive ones at least ``gap`` school days apart."""
    room = hi - lo - (gap - 1) * (n - 1)
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if room < n:
        raise ValueError("not enough school days")
    picks = np.sort(rng.choice(room, size=n, replace=False))
    return lo + picks + np.arange(n) * (gap - 1)


def _pick(rng, lo: int, hi: int, n: int) -> np.ndarray:
    """``n`` distinct sorted day indices in [lo, hi) (all of them when the range is shorter)."""
    hi = max(hi, lo)
    n = min(n, hi - lo)
    return np.sort(rng.choice(np.arange(lo, hi), size=n, replace=False)) if n > 0 else np.zeros(0, np.int64)


def _choice(rng, options: list, weights=None, size=None):
    p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
    return rng.choice(len(options), size=size, p=p)


def _fmt_money(values) -> np.ndarray:
    return np.array([f"{v:.2f}" for v in np.asarray(values, float)], dtype=object)


def _xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """An .xlsx of ``frame`` (dates as real Excel dates) whose bytes depend only on its content."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(frame.columns))
    columns = [frame[c].tolist() for c in frame.columns]
    for row in zip(*columns):
        ws.append([None if (isinstance(v, float) and math.isnan(v)) or v is pd.NaT else
                   (v.to_pydatetime().date() if isinstance(v, pd.Timestamp) else v) for v in row])
    wb.properties.creator = "kwanalytics demo"
    return fixed_bytes(wb)


def fixed_bytes(wb) -> bytes:
    """An openpyxl workbook's .xlsx bytes, depending only on its content (fixed document and zip times)."""
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    wb.save(buffer)
    # openpyxl stamps each zip entry with the current time; rewrite them with a fixed one.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets "modified" to now when saving
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + FIXED_TIME.strftime(
                    "%Y-%m-%dT%H:%M:%SZ").encode(), data)
            dst.writestr(fixed, data)
    return out.getvalue()


def _csv_bytes(frame: pd.DataFrame, encoding: str = "utf-8", crlf: bool = False) -> bytes:
    text = frame.to_csv(index=False, lineterminator="\r\n" if crlf else "\n")
    return text.encode(encoding)


# ---------------------------------------------------------------------------------------------------- the school

class _School:
    """One synthetic school year. ``build()`` fills ``frames`` (export-shaped, all text) and ``truth``."""

    def __init__(self, students: int, seed: int, settings):
        if students < 1:
            raise ValueError("students must be at least 1")
        self.n, self.seed, self.settings = students, seed, settings
        self.rng = np.random.default_rng(seed)
        cal = from_term_dates(settings.term_dates)
        self.days = cal.between(START, END)
        if len(self.days) < 150:
            raise ValueError("the term dates do not cover the 2025-26 school year")
        self.D = len(self.days)
        self.weekday = np.asarray(self.days.day_of_week)
        periods = settings.periods
        self.period_names = list(periods["name"])
        self.period_start = periods["start_min"].to_numpy()
        self.period_end = periods["end_min"].to_numpy()
        self.P = {name: i for i, name in enumerate(self.period_names)}
        for name in PERIOD_WEIGHTS:
            if name not in self.P:
                raise ValueError(f"settings.yaml has no period called {name!r}")
        self.C = {c: i for i, c in enumerate(CATEGORIES)}
        self.L = {c: i for i, c in enumerate(LOCATIONS)}
        self.A = {c: i for i, c in enumerate(ANTECEDENTS)}
        self.frames: dict[str, pd.DataFrame] = {}
        self.truth: dict = {}
        self.mistakes: list[dict] = []

    def idx(self, date) -> int:
        """Index of the first school day on or after ``date``."""
        return int(self.days.searchsorted(pd.Timestamp(date)))

    # ------------------------------------------------------------------ pupils
    def make_students(self):
        rng, n = self.rng, self.n
        width = max(4, len(str(n)))
        self.ids = np.array([f"S{i:0{width}d}" for i in range(1, n + 1)], dtype=object)
        self.unknown_id = f"S{n + 7:0{width}d}"
        F, S = len(FIRST_NAMES), len(SURNAMES)
        if n <= F * S:
            if n <= F:  # a small school: every first name different, as a reader would wish
                first_i = rng.permutation(F)[:n]
                combo = first_i * S + rng.integers(0, S, n)
            else:
                combo = rng.choice(F * S, size=n, replace=False)
            first = np.array(FIRST_NAMES, dtype=object)[combo // S]
            last = np.array(SURNAMES, dtype=object)[combo % S]
            full = first + " " + last
        else:  # beyond ~15,000 pupils a middle initial keeps names unique
            combo = np.arange(n) % (F * S)
            rng.shuffle(combo)
            first = np.array(FIRST_NAMES, dtype=object)[combo // S]
            last = np.array(SURNAMES, dtype=object)[combo % S]
            initial = np.array([chr(65 + (i // (F * S)) % 26) for i in range(n)], dtype=object)
            full = first + " " + initial + ". " + last
        self.first, self.full = first, full
        self.key_worker = np.array(KEY_WORKERS, dtype=object)[rng.integers(0, len(KEY_WORKERS), n)]
        need = np.array([s for s, _ in NEED_SPELLINGS], dtype=object)[
            _choice(rng, NEED_SPELLINGS, [w for _, w in NEED_SPELLINGS], n)]
        year = np.array(YEAR_GROUPS, dtype=object)[rng.integers(0, len(YEAR_GROUPS), n)]
        ehcp = np.where(rng.random(n) < 0.85, "Y", "N").astype(object)
        review = pd.Timestamp("2026-01-05") + pd.to_timedelta(rng.integers(0, 355, n), unit="D")
        self.frames["students"] = pd.DataFrame({
            "student_id": self.ids, "display_name": full, "year_group": year, "primary_need": need,
            "ehcp": ehcp, "key_worker": self.key_worker, "annual_review_due": review.strftime("%Y-%m-%d")})

        # planted kinds, assigned to a shuffled order of pupils
        counts = planted_counts(n)
        order = rng.permutation(n)
        self.kind = np.empty(n, dtype=object)
        pos = 0
        for kind, k in counts.items():
            self.kind[order[pos:pos + k]] = kind
            pos += k
        self.counts = counts

    # ------------------------------------------------------------------ incidents
    def make_incidents(self):
        rng, D = self.rng, self.D
        inc = _Incidents()
        planted = []
        enrolments = []  # (pupil, programme, start_idx, end_idx or None)
        summer = self.idx("2026-04-13")
        jan, feb_end = self.idx("2026-01-12"), self.idx("2026-02-27")
        week_of = np.asarray(self.days.to_period("W-SUN").start_time)
        weeks = np.unique(week_of)
        programmes = list(PROGRAMME_CATEGORIES)
        counters = {k: 0 for k in KIND_PER_60}
        nonphys = [self.C[c] for c in NON_PHYSICAL]
        self.quiet_with = {0: [], 1: []}
        self.scattered_rows = []

        for p in range(self.n):
            kind = self.kind[p]
            sid = str(self.ids[p])
            j = counters.get(kind, 0)
            counters[kind] = j + 1
            detail: dict = {}
            if kind == "quiet":
                k = int(rng.random() < 0.4)
                inc.add(p, _pick(rng, 0, D, k))
                self.quiet_with[k].append(p)
                detail = {"incidents": k}
            elif kind == "scattered":
                detail = {"incidents": self._scattered(inc, p, int(rng.integers(2, 6)))}
                self.scattered_rows.append(p)
            elif kind in ("improves", "no_change"):
                # Most enrolments are in three core programmes, so that the cohort report has groups of at
                # least 5 pupils to show (smaller groups are suppressed); the rest are in the others.
                programme = programmes[j % 3]
                cats = [self.C[c] for c in PROGRAMME_CATEGORIES[programme]]
                start = int(rng.integers(jan, feb_end + 1))
                if kind == "improves":
                    before, during, after = 0.35, 0.05, 0.05
                    length = int(rng.integers(50, 71))
                    end = start + length if j % 2 == 0 and start + length < D - 5 else None
                    lead = int(rng.integers(40, 56))
                else:
                    before, during, after = 0.2, 0.2, 0.2
                    end = min(start + int(rng.integers(40, 61)), D - 10)  # ended: a finished programme
                    lead = int(rng.integers(30, 46))
                stop = D if end is None else end + 1
                lo = max(0, start - lead)
                # exact counts per window (not Poisson draws), so that the planted effect is what the truth says
                parts = [_pick(rng, max(0, start - 30), start, round(before * min(30, start))),
                         _pick(rng, lo, max(0, start - 30), round(before * max(0, start - 30 - lo))),
                         _pick(rng, 0, lo, round(0.08 * lo)),
                         _pick(rng, start, stop, max(1, round(during * (stop - start)))),
                         _pick(rng, stop, D, round(after * (D - stop)))]
                days = np.sort(np.concatenate(parts))
                # the programme's first category is what mostly brought the pupil to it
                inc.add(p, days, category=np.asarray(cats)[_choice(rng, cats, [0.5, 0.3, 0.2], len(days))])
                enrolments.append((p, programme, start, end))
                detail = {"programme": programme, "enrolment_id": None, "started_on": self._iso(start),
                          "ended_on": None if end is None else self._iso(end),
                          "rate_before": before, "rate_during": during}
            elif kind == "escalation":
                detail = self._escalation(inc, p, weeks, week_of)
            elif kind == "cluster":
                s = int(rng.integers(summer, D - 5))
                cdays = np.sort(rng.choice(np.arange(s, s + 5), 4, replace=False))
                category = CLUSTER_CATEGORIES[j % len(CLUSTER_CATEGORIES)]
                inc.add(p, cdays, category=self.C[category])
                b = int(rng.integers(0, 3))
                if b and s - 15 > 15 * b:
                    inc.add(p, _spaced(rng, 0, s - 15, b, 15), category=np.array(nonphys)[
                        rng.choice(len(nonphys), b, replace=False)])
                detail = {"start": self._iso(cdays[0]), "end": self._iso(cdays[-1]), "category": category,
                          "incidents": 4}
            elif kind == "time":
                _, wdname, period = TIMES[j % len(TIMES)]
                n_all = int(rng.integers(8, 13))
                k = math.ceil(0.8 * n_all)
                candidates = np.flatnonzero(self.weekday == WEEKDAYS.index(wdname))
                tdays = np.sort(rng.choice(candidates, k, replace=False))
                inc.add(p, tdays, period=self.P[period])
                others = _pick(rng, 0, D, n_all - k)
                other_periods = [self.P[x] for x in PERIOD_WEIGHTS if x != period]
                inc.add(p, others, period=np.asarray(other_periods)[rng.integers(0, len(other_periods), len(others))])
                detail = {"weekday": wdname, "period": period, "incidents": n_all, "on_pattern": k}
            elif kind == "place":
                place = PLACES[j % len(PLACES)]
                n_all = int(rng.integers(8, 13))
                k = math.ceil(0.8 * n_all)
                pdays = _pick(rng, 0, D, n_all)
                at = rng.permutation(n_all) < k
                locs = np.where(at, self.L[place], -1)
                others = [x for x in LOCATIONS if x != place and x != "Community"]
                locs[~at] = [self.L[x] for x in np.asarray(others)[rng.integers(0, len(others), (~at).sum())]]
                periods = [self.P[PERIODS_AT[LOCATIONS[loc]][rng.integers(0, len(PERIODS_AT[LOCATIONS[loc]]))]]
                           for loc in locs]
                inc.add(p, pdays, location=locs, period=periods)
                detail = {"location": place, "incidents": n_all, "on_pattern": k}
            elif kind == "trigger":
                antecedent, category = TRIGGERS[j % len(TRIGGERS)]
                k, m = int(rng.integers(8, 10)), int(rng.integers(8, 11))
                days = _pick(rng, 0, D, k + m)
                is_trigger = rng.permutation(k + m) < k
                other_a = [self.A[a] for a in ANTECEDENTS if a != antecedent]
                other_c = [self.C[c] for c in NON_PHYSICAL if c != category]
                ants = np.where(is_trigger, self.A[antecedent],
                                np.asarray(other_a)[rng.integers(0, len(other_a), k + m)])
                cats = np.where(is_trigger, self.C[category],
                                np.asarray(other_c)[rng.integers(0, len(other_c), k + m)])
                inc.add(p, days, antecedent=ants, category=cats)
                detail = {"antecedent": antecedent, "category": category, "incidents": k + m, "on_pattern": k}
            planted.append({"student_id": sid, "kind": kind, "detail": detail})
        self.planted, self.enrolments = planted, enrolments
        self.inc_arrays = inc.arrays()

    def _scattered(self, inc, p, k) -> int:
        """2-5 incidents, 15+ school days apart, every place, period, antecedent and category different,
        at most two on one weekday: nothing a pattern test should pick up."""
        rng = self.rng
        for _ in range(50):
            days = _spaced(rng, 0, self.D, k, 15)
            if np.bincount(self.weekday[days], minlength=5).max() <= 2:
                break
        for _ in range(50):  # places and periods all different (a place limits its periods: Minibus)
            locs = rng.choice([x for x in LOCATIONS if x != "Community"], k, replace=False)
            used, periods = set(), []
            for loc in locs:
                free = [x for x in PERIODS_AT[loc] if x not in used] or PERIODS_AT[loc]
                choice = free[rng.integers(0, len(free))]
                used.add(choice)
                periods.append(self.P[choice])
            if len(used) == k:
                break
        cats = rng.choice([self.C[c] for c in NON_PHYSICAL], k, replace=False)
        ants = rng.choice(len(ANTECEDENTS), k, replace=False)
        sev = [int(rng.integers(1, 3)) for _ in range(k)]
        inc.add(p, days, location=[self.L[x] for x in locs], period=periods, category=cats, antecedent=ants,
                severity=sev)
        return k

    def _escalation(self, inc, p, weeks, week_of) -> dict:
        """Low-level incidents rising over the last 12 school weeks, severity rising, then 2-3 physical ones
        in the last two school weeks (none physical before)."""
        rng = self.rng
        last = weeks[-12:]
        ramp = np.array([0, 1, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])
        ramp = np.clip(ramp + rng.integers(-1, 2, len(ramp)) * (np.arange(12) % 3 == 1), 0, 4)
        days, sev = [], []
        for w, (wk, count) in enumerate(zip(last, ramp)):
            in_week = np.flatnonzero(week_of == wk)
            chosen = np.sort(rng.choice(in_week, min(count, len(in_week)), replace=False))
            days.extend(chosen.tolist())
            sev.extend([int(min(4, 1 + (3 * w) // 12 + (rng.random() < 0.3))) for _ in chosen])
        low = [self.C[c] for c in LOW_LEVEL]
        main = LOW_LEVEL[int(rng.integers(0, 2))]
        cats = [self.C[main] if rng.random() < 0.6 else low[rng.integers(0, len(low))] for _ in days]
        inc.add(p, days, category=cats, severity=sev)
        tail = np.flatnonzero(np.isin(week_of, weeks[-2:]))
        nphys = int(rng.integers(2, 4))
        phys_days = np.sort(rng.choice(tail, nphys, replace=False))
        phys_cat = [self.C["Physical aggression"]] * (nphys - 1) + [self.C["Damage to property"]]
        inc.add(p, phys_days, category=phys_cat, severity=rng.integers(4, 6, nphys))
        first_window = int(np.flatnonzero(week_of == last[0])[0])
        b = int(rng.integers(0, 3))
        if b and first_window - 15 > 15 * b:
            inc.add(p, _spaced(rng, 0, first_window - 15, b, 15),
                    category=np.asarray(low)[rng.choice(len(low), b, replace=False)], severity=1)
        return {"from": main, "to": "Physical aggression", "window_start": self._iso(first_window),
                "first_physical": self._iso(phys_days[0]), "low_level": int(len(days)), "physical": nphys}

    def _iso(self, day_index) -> str:
        return self.days[int(day_index)].strftime("%Y-%m-%d")

    def incidents_frame(self):
        """Fill the undecided fields (vectorised) and shape the Arbor behaviour export."""
        rng, a = self.rng, self.inc_arrays
        n = len(a["day"])
        period, location, category = a["period"].copy(), a["location"].copy(), a["category"].copy()
        antecedent, severity = a["antecedent"].copy(), a["severity"].copy()
        # a location fixed without a period was handled by the planting code; here: period first, then place
        names = list(PERIOD_WEIGHTS)
        todo = period < 0
        period[todo] = np.array([self.P[x] for x in names])[_choice(rng, names, list(PERIOD_WEIGHTS.values()),
                                                                      todo.sum())]
        part = np.where(np.isin(period, [self.P[x] for x in LESSON_PERIODS]), "lesson",
                        np.where(np.isin(period, [self.P["Break"], self.P["Lunch"]]), "break", "edge"))
        for name, weights in LOCATION_BY_PART.items():
            todo = (location < 0) & (part == name)
            places = list(weights)
            location[todo] = np.array([self.L[x] for x in places])[_choice(rng, places, list(weights.values()),
                                                                            todo.sum())]
        todo = category < 0
        category[todo] = _choice(rng, CATEGORIES, CATEGORY_WEIGHTS, todo.sum())
        todo = antecedent < 0
        antecedent[todo] = _choice(rng, ANTECEDENTS, ANTECEDENT_WEIGHTS, todo.sum())
        lo = np.array([SEVERITY_RANGE[c][0] for c in CATEGORIES])[category]
        hi = np.array([SEVERITY_RANGE[c][1] for c in CATEGORIES])[category]
        drawn = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(np.int64)
        severity = np.where(severity < 0, drawn, severity)
        # a time inside the period, clear of its edges
        start, end = self.period_start[period] + 3, self.period_end[period] - 3
        minute = start + np.floor(rng.random(n) * (end - start)).astype(np.int64)
        when = self.days[a["day"]] + pd.to_timedelta(minute, unit="m")

        cat_names = np.array(CATEGORIES, dtype=object)[category]
        loc_names = np.array(LOCATIONS, dtype=object)[location]
        ant_names = np.array(ANTECEDENTS, dtype=object)[antecedent]
        physical = np.isin(cat_names, list(PHYSICAL))
        # export spellings: some rows use another spelling the school's vocabulary lists
        cat_out, loc_out, ant_out = (self._respell(cat_names, CATEGORY_SPELLINGS, 0.08),
                                     self._respell(loc_names, LOCATION_SPELLINGS, 0.06),
                                     self._respell(ant_names, ANTECEDENT_SPELLINGS, 0.06))
        lesson = np.array(SUBJECTS, dtype=object)[rng.integers(0, len(SUBJECTS), n)]
        lesson = np.where(loc_names == "PE hall", "PE", lesson)
        lesson = np.where(loc_names == "Community", "Community visit", lesson)
        lesson = np.where(part == "lesson", lesson, "")

        pupil = a["pupil"]
        first = self.first[pupil]
        # narratives: one template per category; about 10% name another pupil by full name
        tmpl_i = np.floor(rng.random(n) * 2).astype(np.int64)
        before = np.empty(n, dtype=object)
        after = np.empty(n, dtype=object)
        for ci, cname in enumerate(CATEGORIES):
            rows = category == ci
            options = NARRATIVE[cname]
            pick = tmpl_i[rows] % len(options)
            before[rows] = np.array([o[0] for o in options], dtype=object)[pick]
            after[rows] = np.array([o[1] for o in options], dtype=object)[pick]
        # ~15% of the categories that involve a peer, ~10% of all narratives
        names_peer = (rng.random(n) < 0.15) & np.isin(cat_names, list(PEER_NARRATIVE))
        peer = (pupil + 1 + rng.integers(0, max(1, self.n - 1), n)) % self.n
        peer_name = self.full[peer]
        narrative = before + first + after
        if names_peer.any() and self.n > 1:
            pa_ = np.array([PEER_NARRATIVE[c][0] for c in cat_names[names_peer]], dtype=object)
            pb = np.array([PEER_NARRATIVE[c][1] for c in cat_names[names_peer]], dtype=object)
            pc = np.array([PEER_NARRATIVE[c][2] for c in cat_names[names_peer]], dtype=object)
            narrative[names_peer] = pa_ + first[names_peer] + pb + peer_name[names_peer] + pc
        narrative = np.array([s[:1].upper() + s[1:] for s in narrative], dtype=object)
        act_phys = np.array(ACTIONS["physical"], dtype=object)[rng.integers(0, len(ACTIONS["physical"]), n)]
        act_other = np.array(ACTIONS["other"], dtype=object)[rng.integers(0, len(ACTIONS["other"]), n)]
        action = np.where(physical | (severity >= 4), act_phys, act_other)
        action = np.array([s.replace("{p}", f) for s, f in zip(action, first)], dtype=object)
        staff = np.array(TEACHERS + KEY_WORKERS, dtype=object)[rng.integers(0, len(TEACHERS) + len(KEY_WORKERS), n)]
        parent = np.where(rng.random(n) < np.where(severity >= 4, 0.8, 0.15), "Yes", "No")
        pi_prob = np.where(cat_names == "Physical aggression", 0.5, np.where(physical, 0.2, 0.0))
        hold = np.where(rng.random(n) < pi_prob, "Yes", "No")
        restorative = np.where(rng.random(n) < 0.4, "Yes", "No")

        frame = pd.DataFrame({
            "Behaviour Incident ID": "", "Student ID": self.ids[pupil], "Student": self.full[pupil],
            "Incident Datetime": when.strftime("%d/%m/%Y %H:%M"), "Behaviour": cat_out, "Location": loc_out,
            "Lesson": lesson, "Severity": severity.astype(str), "Antecedent": ant_out, "Narrative": narrative,
            "Action Taken": action, "Logged By Staff": staff, "Parent Contacted": parent,
            "Physical Intervention": hold, "Restorative Conversation": restorative,
            "_when": when, "_pupil": pupil, "_tag": ""})
        frame = frame.sort_values(["_when", "Student ID"], kind="stable").reset_index(drop=True)
        frame["Behaviour Incident ID"] = [f"BI{i:06d}" for i in range(1, len(frame) + 1)]
        self.incidents = frame

    def _respell(self, names: np.ndarray, spellings: dict, share: float) -> np.ndarray:
        out = names.copy()
        rng = self.rng
        hit = rng.random(len(names)) < share
        pick = rng.integers(0, 3, len(names))
        for canonical, others in spellings.items():
            rows = hit & (names == canonical)
            out[rows] = np.array(others, dtype=object)[pick[rows] % len(others)]
        return out

    # ------------------------------------------------------------------ interventions
    def make_interventions(self):
        rng = self.rng
        rows = []
        for p, programme, start, end in self.enrolments:
            rows.append((p, programme, start, end))
        # a few other pupils (scattered or quiet) in a programme too, as schools do
        others = [p for p in range(self.n) if self.kind[p] in ("scattered", "quiet")]
        extra = rng.choice(others, size=min(len(others), max(1, self.n // 15)), replace=False) if others else []
        for k, p in enumerate(sorted(int(x) for x in extra)):
            programme = ["Social Skills Group", "ELSA", "Social Skills Group", "Forest School"][k % 4]
            start = int(rng.integers(10, self.D - 60))
            end = start + int(rng.integers(30, 50)) if k % 2 == 0 else None
            rows.append((p, programme, start, end))
        rows.sort(key=lambda r: (r[2], r[0]))
        self.enrolment_rows = rows
        out = []
        for i, (p, programme, start, end) in enumerate(rows, 1):
            eid = f"INT{i:05d}"
            aims, criteria = PROGRAMME_AIMS[programme]
            shown = programme
            if programme == "Zones of Regulation" and i % 3 == 0:
                shown = "Zones"  # another spelling from vocabularies.yaml
            if programme == "Lego-based therapy" and i % 2 == 0:
                shown = "Lego therapy"
            outcome = "" if end is None else ("Completed: targets met, fewer incidents" if
                                              self.kind[p] == "improves" else "Completed: no clear change; review plan")
            out.append({"Intervention ID": eid, "Student ID": self.ids[p], "Student": self.full[p],
                        "Intervention": shown, "Start Datetime": self.days[start].strftime("%d/%m/%Y") + " 09:00",
                        "End Datetime": "" if end is None else self.days[end].strftime("%d/%m/%Y") + " 15:00",
                        "Aims": aims, "Success Criteria": criteria, "Outcome": outcome,
                        "Staff": self.key_worker[p], "_tag": ""})
            entry = self.planted[p]  # planted is in pupil order
            if entry["kind"] in ("improves", "no_change") and entry["detail"]["started_on"] == self._iso(start):
                entry["detail"]["enrolment_id"] = eid
        self.interventions = pd.DataFrame(out, columns=ARBOR_INTERVENTION_HEADER + ["_tag"])

    # ------------------------------------------------------------------ targets and ratings
    def make_targets(self):
        rng, n = self.rng, self.n
        per = rng.integers(3, 6, n)
        pupil = np.repeat(np.arange(n), per)
        k = np.concatenate([np.arange(1, m + 1) for m in per]) if n else np.zeros(0, int)
        # target 1 SEMH, target 2 Communication and Interaction, later ones mixed (some Cognition and Learning)
        area_i = np.where(k == 1, 0, np.where(k == 2, 1, _choice(rng, [0, 1, 2], [0.45, 0.35, 0.2], len(k))))
        area_spell = np.array([["SEMH", "SEMH", "Social, emotional and mental health"],
                               ["Communication and Interaction", "C&I", "Communication and Interaction"],
                               ["Cognition and Learning", "Cognition and Learning", "C&L"]], dtype=object)
        area = area_spell[area_i, rng.integers(0, 3, len(k))]
        banks = [SEMH_TARGETS, CI_TARGETS, CL_TARGETS]
        text_i = rng.integers(0, 100, len(k))
        desc = np.array([banks[a][(t + kk) % len(banks[a])].replace("{p}", str(f))
                         for a, t, kk, f in zip(area_i, text_i, k, self.first[pupil])], dtype=object)
        tid = np.array([f"{s}-T{x}" for s, x in zip(self.ids[pupil], k)], dtype=object)
        set_days, review_days = self.days[self.idx("2025-09-15"):self.idx("2025-10-01")], \
            self.days[self.idx("2026-07-06"):self.idx("2026-07-18")]
        set_on = set_days[rng.integers(0, len(set_days), len(k))]
        review_on = review_days[rng.integers(0, len(review_days), len(k))]
        self.targets = pd.DataFrame({
            "target_id": tid, "student_id": self.ids[pupil], "area": area, "description": desc,
            "set_on": set_on, "review_on": review_on, "weight": rng.integers(1, 4, len(k)),
            "source": np.where(rng.random(len(k)) < 0.7, "EHCP", "ILP")})
        self.target_pupil, self.target_k = pupil, k

    def make_ratings(self):
        rng = self.rng
        ends = []  # last school day of each half term, a few days earlier at random
        for term in self.settings.term_dates.get("terms") or []:
            end = pd.Timestamp(term["end"])
            if START <= end <= END + pd.Timedelta(days=2):
                ends.append(min(self.idx(end + pd.Timedelta(days=1)) - 1, self.D - 1))
        ends = np.array(ends)
        T, R = len(self.targets), len(ends)
        pupil = self.target_pupil
        kind = self.kind[pupil]
        step = np.arange(R)
        # latent progress per rating: most pupils creep towards 0 (expected), improvers climb after their
        # programme starts, escalating pupils fall back in the summer
        start_of = np.full(self.n, self.D, dtype=float)
        for p, _, s, _ in self.enrolments:
            start_of[p] = s
        base = rng.choice([-2, -1, -1, -1], T).astype(float)
        drift = rng.normal(0.15, 0.12, T)
        latent = base[:, None] + drift[:, None] * step[None, :]
        improves = kind == "improves"
        after = np.clip((ends[None, :] - start_of[pupil][:, None]) / 25.0, 0, None)
        latent[improves] = base[improves, None] + 0.6 * after[improves]
        escal = kind == "escalation"
        latent[escal] = (base[escal, None] + 0.15 * step[None, :]) - np.where(step >= R - 2, 2.0, 0)[None, :]
        score = np.clip(np.round(latent + rng.normal(0, 0.35, (T, R))), -2, 2).astype(int)
        jitter = rng.integers(0, 4, (T, R))
        day = np.clip(ends[None, :] - jitter, 0, self.D - 1)
        keep = rng.random((T, R)) > 0.05  # a rating is sometimes missed
        keep[:, 0] &= rng.random(T) > 0.03
        ti, ri = np.nonzero(keep)
        frame = pd.DataFrame({
            "target_id": self.targets["target_id"].to_numpy()[ti],
            "student_id": self.ids[pupil[ti]],
            "rated_on": self.days[day[ti, ri]].strftime("%d/%m/%Y"),
            "gas_score": score[ti, ri].astype(str),
            "rated_by": self.key_worker[pupil[ti]],
            "evidence": np.array(RATING_EVIDENCE, dtype=object)[rng.integers(0, len(RATING_EVIDENCE), len(ti))],
            "_when": self.days[day[ti, ri]], "_tag": ""})
        self.ratings = frame.sort_values(["_when", "target_id"], kind="stable").reset_index(drop=True)

    # ------------------------------------------------------------------ risk assessments and sessions
    def make_sessions(self):
        rng, n, D = self.rng, self.n, self.D
        community_names = list(COMMUNITY)
        # which pupils go out, and to do what (one or two community activities each)
        goes_out = rng.random(n) < 0.6
        acts = [sorted(rng.choice(len(community_names), int(rng.integers(1, 3)), replace=False).tolist())
                if goes_out[p] else [] for p in range(n)]
        prog_of = {p: (programme, s, e) for p, programme, s, e in self.enrolment_rows}
        for p, (programme, _, _) in prog_of.items():
            if programme == "Forest School" and community_names.index("Forest School") not in acts[p]:
                acts[p] = sorted(acts[p] + [community_names.index("Forest School")])
        # risk assessments: one per pupil and community activity, early September, reviewed a year on
        ra_rows, ra_of = [], {}
        pupils_out = [p for p in range(n) if acts[p]]
        for p in pupils_out:
            for a in acts[p]:
                ra_id = f"RA{len(ra_rows) + 1:05d}"
                assessed = pd.Timestamp("2025-09-01") + pd.Timedelta(days=int(rng.integers(0, 10)))
                covered = sorted({"Absconding", "Dysregulation", "Verbal abuse"} if a != 2 else
                                 {"Absconding", "Dysregulation", "Damage to property"})
                ra_rows.append({"ra_id": ra_id, "student_id": self.ids[p], "activity": community_names[a],
                                "venue": COMMUNITY[community_names[a]][0], "assessed_on": assessed,
                                "review_by": assessed + pd.DateOffset(years=1) - pd.Timedelta(days=1),
                                "assessed_by": self.key_worker[p], "behaviours_covered": "; ".join(covered)})
                ra_of[(p, a)] = len(ra_rows) - 1
        # a couple of assessments carried over from last year and now expired (sessions after: warnings)
        expired = []
        for r in rng.choice(len(ra_rows), size=min(len(ra_rows), max(2, n // 200)), replace=False) \
                if ra_rows else []:
            assessed = pd.Timestamp("2024-11-04") + pd.Timedelta(days=int(rng.integers(0, 20)))
            ra_rows[r]["assessed_on"] = assessed
            ra_rows[r]["review_by"] = assessed + pd.DateOffset(years=1) - pd.Timedelta(days=1)
            expired.append(int(r))
        self.expired_ra = sorted(expired)

        # regular sessions: each pupil 1-3 a week on random school days
        per_week = rng.choice([1.0, 1.5, 2.0, 3.0], n, p=[0.35, 0.3, 0.25, 0.1])
        counts = np.minimum(np.round(per_week * D / 5).astype(int), D)
        pupil = np.repeat(np.arange(n), counts)
        day = np.concatenate([np.sort(rng.choice(D, c, replace=False)) for c in counts]) if n else np.zeros(0, int)
        m = len(day)
        has_out = np.array([bool(acts[p]) for p in range(n)])
        community = has_out[pupil] & (rng.random(m) < 0.3) & (day >= self.idx("2025-09-15"))
        onsite_names = list(ONSITE_ACTIVITIES)
        activity = np.array(onsite_names, dtype=object)[_choice(rng, onsite_names,
                                                                list(ONSITE_ACTIVITIES.values()), m)]
        # community activity: one of the pupil's own
        first_act = np.array([a[0] if a else 0 for a in acts])
        second_act = np.array([a[-1] if a else 0 for a in acts])
        which = np.where(rng.random(m) < 0.5, first_act[pupil], second_act[pupil])
        activity = np.where(community, np.array(community_names, dtype=object)[which], activity)
        act_index = np.where(community, which, -1)
        # sessions that deliver a programme: weekly inside the enrolment, activity = the programme's name
        prog_p, prog_d, prog_name = [], [], []
        for p, (programme, s, e) in prog_of.items():
            stop = D if e is None else e + 1
            wd = int(rng.integers(0, 5))
            days = np.flatnonzero((np.arange(D) >= s) & (np.arange(D) < stop) & (self.weekday == wd))
            prog_p.append(np.full(len(days), p))
            prog_d.append(days)
            prog_name.extend([programme] * len(days))
        if prog_p:
            pp, pd_ = np.concatenate(prog_p), np.concatenate(prog_d)
            pupil = np.concatenate([pupil, pp])
            day = np.concatenate([day, pd_])
            activity = np.concatenate([activity, np.array(prog_name, dtype=object)])
            is_forest = np.array(prog_name) == "Forest School"
            community = np.concatenate([community, is_forest])
            act_index = np.concatenate([act_index, np.where(is_forest, community_names.index("Forest School"), -1)])
        m = len(day)
        is_prog = np.zeros(m, bool)
        is_prog[m - len(prog_name):] = True
        fmt = np.where(rng.random(m) < 0.3, "small group", "1:1").astype(object)
        fmt = np.where(activity == "Check-in", "1:1", fmt)
        prog_fmt = np.array([PROGRAMME_FORMAT.get(a, "1:1") for a in activity], dtype=object)
        fmt = np.where(is_prog, prog_fmt, fmt)
        setting = np.where(community, "community", "on site").astype(object)
        duration = np.array([30, 45, 60, 90])[_choice(rng, [30, 45, 60, 90], [0.2, 0.35, 0.35, 0.1], m)]
        duration = np.where(activity == "Check-in", 30, duration)
        duration = np.where(community, np.array([60, 90])[rng.integers(0, 2, m)], duration)
        start_time = np.array(["09:00", "09:55", "11:15", "13:05", "14:05"], dtype=object)[rng.integers(0, 5, m)]
        start_time = np.where(activity == "Check-in", "08:50", start_time)
        start_time = np.where(community, np.array(["10:00", "13:00"], dtype=object)[rng.integers(0, 2, m)],
                              start_time)
        staff = np.where(rng.random(m) < 0.9, self.key_worker[pupil],
                         np.array(KEY_WORKERS, dtype=object)[rng.integers(0, len(KEY_WORKERS), m)])
        venue_cost = np.array([COMMUNITY[c][1] for c in community_names])
        staff_cost = STAFF_RATE_GBP_PER_HOUR * duration / 60 / np.where(fmt == "small group", GROUP_SIZE, 1)
        cost = np.round(staff_cost + np.where(community, venue_cost[np.maximum(act_index, 0)], 0.0), 2)
        venue = np.array(ONSITE_VENUES, dtype=object)[rng.integers(0, len(ONSITE_VENUES), m)]
        venue = np.where(community, np.array([COMMUNITY[c][0] for c in community_names],
                                             dtype=object)[np.maximum(act_index, 0)], venue)
        ra_lookup = np.array([ra_rows[ra_of[(p, a)]]["ra_id"] if (p, a) in ra_of else ""
                              for p, a in zip(pupil[community], act_index[community])], dtype=object)
        ra = np.full(m, "", dtype=object)
        ra[community] = ra_lookup
        # engagement 1..5 with a trend: rising for improvers after their programme starts, falling for the
        # escalating pupils in the summer, a gentle drift for others
        t = day / D
        base = rng.uniform(2.3, 3.8, n)
        slope = rng.normal(0.3, 0.4, n)
        start_of = np.full(n, D, dtype=float)
        for p, _, s, _ in self.enrolments:
            start_of[p] = s
        kind = self.kind[pupil]
        level = base[pupil] + slope[pupil] * t
        level = np.where(kind == "improves", base[pupil] + 1.6 * np.clip((day - start_of[pupil]) / 60, 0, 1), level)
        level = np.where(kind == "escalation", base[pupil] - 1.4 * np.clip((day - (D - 60)) / 60, 0, 1), level)
        engagement = np.clip(np.round(level + rng.normal(0, 0.6, m)), 1, 5).astype(int)
        # skills embedded
        skill_sets = np.array(["English", "maths", "social", "English; social", "maths; social",
                               "English; maths", "English; maths; social", "social", "social"], dtype=object)
        skills = skill_sets[rng.integers(0, len(skill_sets), m)]
        # targets addressed: one or two of the pupil's targets
        per = np.bincount(self.target_pupil, minlength=n)
        t1 = rng.integers(0, 10**6, m) % per[pupil] + 1
        t2 = rng.integers(0, 10**6, m) % per[pupil] + 1
        tid1 = self.ids[pupil] + "-T" + t1.astype(str).astype(object)
        tid2 = self.ids[pupil] + "-T" + t2.astype(str).astype(object)
        addressed = np.where((rng.random(m) < 0.4) & (t1 != t2), tid1 + ";" + tid2, tid1)
        notes = np.array(SESSION_NOTES, dtype=object)[rng.integers(0, len(SESSION_NOTES), m)]
        peer_rows = (rng.random(m) < 0.08) & (n > 1)
        if peer_rows.any():
            peer = (pupil[peer_rows] + 1 + rng.integers(0, max(1, n - 1), peer_rows.sum())) % n
            tmpl = rng.integers(0, len(PEER_NOTES), peer_rows.sum())
            notes[peer_rows] = (np.array([x[0] for x in PEER_NOTES], dtype=object)[tmpl] + self.full[peer]
                                + np.array([x[1] for x in PEER_NOTES], dtype=object)[tmpl])
        frame = pd.DataFrame({
            "session_id": "", "student_id": self.ids[pupil], "date": self.days[day].strftime("%Y-%m-%d"),
            "start_time": start_time, "duration_minutes": duration.astype(str), "staff": staff, "format": fmt,
            "setting": setting, "activity": activity, "venue": venue, "targets_addressed": addressed,
            "engagement": engagement.astype(str), "cost_gbp": _fmt_money(cost), "risk_assessment_id": ra,
            "skills": skills, "notes": notes, "_day": day, "_pupil": pupil, "_tag": ""})
        frame = frame.sort_values(["_day", "start_time", "student_id"], kind="stable").reset_index(drop=True)
        frame["session_id"] = [f"KS{i:06d}" for i in range(1, len(frame) + 1)]
        self.sessions = frame
        ra_frame = pd.DataFrame(ra_rows, columns=["ra_id", "student_id", "activity", "venue", "assessed_on",
                                                  "review_by", "assessed_by", "behaviours_covered"])
        for col in ("assessed_on", "review_by"):
            ra_frame[col] = pd.to_datetime(ra_frame[col]).dt.strftime("%Y-%m-%d")
        ra_frame["_tag"] = ""
        self.risk = ra_frame
        self.goes_out = np.array([bool(a) for a in acts])

    # ------------------------------------------------------------------ contacts and budget
    def make_contacts(self):
        rng, n = self.rng, self.n
        per = rng.poisson(4, n) + 1
        per = np.where(np.isin(self.kind, ["escalation", "improves"]), per + 3, per)
        pupil = np.repeat(np.arange(n), per)
        m = len(pupil)
        day = rng.integers(0, self.D, m)
        party = np.array([x for x, _ in CONTACT_PARTIES], dtype=object)[
            _choice(rng, CONTACT_PARTIES, [w for _, w in CONTACT_PARTIES], m)]
        purposes = list(CONTACT_TEXT)
        purpose_i = rng.integers(0, len(purposes), m)
        text_i = rng.integers(0, 10, m)
        summary = np.array([CONTACT_TEXT[purposes[u]][v % len(CONTACT_TEXT[purposes[u]])].replace("{p}", str(f))
                            for u, v, f in zip(purpose_i, text_i, self.first[pupil])], dtype=object)
        frame = pd.DataFrame({
            "contact_id": "", "student_id": self.ids[pupil], "date": self.days[day].strftime("%d/%m/%Y"),
            "party": party, "method": np.array(CONTACT_METHODS, dtype=object)[rng.integers(0, len(CONTACT_METHODS), m)],
            "purpose": np.array(purposes, dtype=object)[purpose_i], "summary": summary, "_day": day})
        frame = frame.sort_values(["_day", "student_id"], kind="stable").reset_index(drop=True)
        frame["contact_id"] = [f"C{i:06d}" for i in range(1, len(frame) + 1)]
        self.contacts = frame.drop(columns="_day")

    def make_budget(self):
        rng, n = self.rng, self.n
        rows = [{"budget_id": f"B-{s}", "scope": "student" if i % 7 else "pupil", "scope_id": s,
                 "period_start": "2025-09-01", "period_end": "2026-08-31",
                 "amount_gbp": f"{a:.2f}"}
                for i, (s, a) in enumerate(zip(self.ids, rng.integers(24, 61, n) * 50.0))]
        for k, programme in enumerate(PROGRAMME_CATEGORIES, 1):
            amount = 500.0 * int(rng.integers(3, 9)) * max(1, round(n / 60))
            rows.append({"budget_id": f"B-PRG{k:02d}", "scope": "programme", "scope_id": programme,
                         "period_start": "2025-09-01", "period_end": "2026-08-31", "amount_gbp": f"{amount:.2f}"})
        rows.append({"budget_id": "B-GENERAL", "scope": "general", "scope_id": "",
                     "period_start": "2025-09-01", "period_end": "2026-08-31",
                     "amount_gbp": f"{250.0 * n:.2f}"})
        self.budget = pd.DataFrame(rows)

    # ------------------------------------------------------------------ mistakes
    def plant_mistakes(self):
        """About eight realistic mistakes, on quiet pupils so that no planted pattern depends on them."""
        rng = self.rng
        quiet0 = self.quiet_with[0] or self.quiet_with[1] or list(range(self.n))
        quiet1 = self.quiet_with[1] or self.scattered_rows or list(range(self.n))
        inc = self.incidents

        def new_incident(p, day, minute, **cells):
            when = self.days[day] + pd.Timedelta(minutes=minute)
            row = {"Behaviour Incident ID": "", "Student ID": self.ids[p] if p is not None else self.unknown_id,
                   "Student": self.full[p] if p is not None else "Jordan Price",
                   "Incident Datetime": when.strftime("%d/%m/%Y %H:%M"), "Behaviour": "Defiance",
                   "Location": "Classroom", "Lesson": "Maths", "Severity": "2", "Antecedent": "Demand placed",
                   "Narrative": "Refused to start the task.", "Action Taken": "Reminder of expectations",
                   "Logged By Staff": "Mr Patel", "Parent Contacted": "No", "Physical Intervention": "No",
                   "Restorative Conversation": "No", "_when": when, "_pupil": -1, "_tag": ""}
            row.update(cells)
            return row

        next_id = len(inc) + 1
        extra = []
        # severity out of range (1..5)
        p = quiet0[0]
        extra.append(new_incident(p, int(rng.integers(20, 60)), 10 * 60 + 5, Severity="7", _tag="severity"))
        # an unknown pupil (left the school; not in students.csv)
        extra.append(new_incident(None, int(rng.integers(60, 100)), 13 * 60 + 20, _tag="unknown pupil"))
        for row in extra:
            row["Behaviour Incident ID"] = f"BI{next_id:06d}"
            next_id += 1
        # an exact duplicate row (the same export pasted twice), right after its original
        scattered_rows = np.flatnonzero(np.isin(inc["_pupil"].to_numpy(), self.scattered_rows)) \
            if self.scattered_rows else np.arange(len(inc))
        if len(scattered_rows) == 0:
            scattered_rows = np.arange(len(inc))
        dup_src = int(scattered_rows[0]) if len(scattered_rows) else None
        hostile_src = int(scattered_rows[-1]) if len(scattered_rows) > 1 else None
        if dup_src is not None:
            dup = inc.loc[dup_src].to_dict()
            dup["_tag"] = "exact duplicate"
            extra.append(dup)
        # a conflicting duplicate id: a later re-export of a quiet pupil's incident with another severity
        conflict_pupil = quiet1[0]
        own = np.flatnonzero(inc["_pupil"].to_numpy() == conflict_pupil)
        if len(own):
            src = inc.loc[int(own[0])].to_dict()
            src.update({"Severity": str(5 if src["Severity"] != "5" else 3),
                        "Narrative": src["Narrative"] + " (Updated after the meeting.)",
                        "_when": inc["_when"].max() + pd.Timedelta(minutes=1), "_tag": "conflicting duplicate id"})
            extra.append(src)
        # hostile text in a valid row: stored as typed, shown inert
        if hostile_src is not None:
            inc.loc[hostile_src, "Narrative"] = '=HYPERLINK("http://example.invalid/report","Click for details")'
            inc.loc[hostile_src, "_tag"] = "hostile text"
        # a location the school has not listed (accepted, reported as an unknown value)
        unlisted = next((i for i in np.flatnonzero(np.isin(inc["_pupil"].to_numpy(),
                                                           [p for p in range(self.n) if self.kind[p] == "improves"])))
                         , None)
        if unlisted is not None:
            inc.loc[unlisted, "Location"] = "Library"
            inc.loc[unlisted, "_tag"] = "unlisted location"
        merged = pd.concat([inc, pd.DataFrame(extra)], ignore_index=True)
        self.incidents = merged.sort_values("_when", kind="stable").reset_index(drop=True)

        # target ratings: an impossible date and a rating for a target that does not exist
        r = self.ratings
        target_of_quiet = self.targets.loc[self.targets["student_id"] == self.ids[quiet0[-1]], "target_id"].iloc[0]
        bad = [{"target_id": target_of_quiet, "student_id": self.ids[quiet0[-1]], "rated_on": "31/02/2026",
                "gas_score": "0", "rated_by": self.key_worker[quiet0[-1]], "evidence": "Half-termly review.",
                "_when": pd.Timestamp("2026-02-27"), "_tag": "impossible date"},
               {"target_id": f"{self.ids[quiet0[-1]]}-T9", "student_id": self.ids[quiet0[-1]],
                "rated_on": "20/03/2026", "gas_score": "1", "rated_by": self.key_worker[quiet0[-1]],
                "evidence": "Half-termly review.", "_when": pd.Timestamp("2026-03-20"), "_tag": "unknown target"}]
        self.ratings = pd.concat([r, pd.DataFrame(bad)], ignore_index=True).sort_values(
            "_when", kind="stable").reset_index(drop=True)

        # an enrolment that ends before it starts (dates typed the wrong way round)
        p = quiet0[min(1, len(quiet0) - 1)]
        iv = self.interventions
        wrong = {"Intervention ID": f"INT{len(iv) + 1:05d}", "Student ID": self.ids[p], "Student": self.full[p],
                 "Intervention": "ELSA", "Start Datetime": "02/03/2026 09:00", "End Datetime": "02/02/2026 15:00",
                 "Aims": PROGRAMME_AIMS["ELSA"][0], "Success Criteria": PROGRAMME_AIMS["ELSA"][1],
                 "Outcome": "", "Staff": self.key_worker[p], "_tag": "ends before start"}
        self.interventions = pd.concat([iv, pd.DataFrame([wrong])], ignore_index=True)

        # sessions: a community visit with no risk assessment (a warning: the session happened), and a note
        # pasted with a script tag (hostile text: stored as typed, shown inert)
        s = self.sessions
        stay_in = [q for q in quiet0 + quiet1 if not self.goes_out[q]] or [q for q in range(self.n)
                                                                         if not self.goes_out[q]]
        p = stay_in[0] if stay_in else 0
        day = self.idx("2026-03-10")
        row = {"session_id": f"KS{len(s) + 1:06d}", "student_id": self.ids[p],
               "date": self.days[day].strftime("%Y-%m-%d"), "start_time": "10:00", "duration_minutes": "60",
               "staff": self.key_worker[p], "format": "1:1", "setting": "community", "activity": "Shopping",
               "venue": COMMUNITY["Shopping"][0], "targets_addressed": f"{self.ids[p]}-T1", "engagement": "4",
               "cost_gbp": f"{STAFF_RATE_GBP_PER_HOUR + COMMUNITY['Shopping'][1]:.2f}", "risk_assessment_id": "",
               "skills": "maths; social", "notes": "Bought ingredients for cooking.", "_day": day, "_pupil": p,
               "_tag": "no risk assessment"}
        s = pd.concat([s, pd.DataFrame([row])], ignore_index=True).sort_values(["_day", "start_time"],
                                                                              kind="stable").reset_index(drop=True)
        target = int(np.flatnonzero(s["_tag"].to_numpy() == "")[len(s) // 2])
        s.loc[target, "notes"] = "Pasted from the app: <script>alert(1)</script>"
        s.loc[target, "_tag"] = "script note"
        self.sessions = s

        # record where each mistake ended up (row = 1-based data row; line = the spreadsheet's row number)
        def record(file, frame, tag, column, kind, note, value_from=None):
            for i in np.flatnonzero(frame["_tag"].to_numpy() == tag):
                value = frame.loc[i, value_from or column]
                self.mistakes.append({"file": file, "row": int(i) + 1, "line": int(i) + 2, "column": column,
                                      "value": str(value), "kind": kind, "note": note})

        record("arbor_behaviour_incidents.csv", self.incidents, "severity", "Severity", "out of range",
               "severity must be 1 to 5")
        record("arbor_behaviour_incidents.csv", self.incidents, "unknown pupil", "Student ID", "unknown pupil",
               "no such pupil in students.csv")
        record("arbor_behaviour_incidents.csv", self.incidents, "exact duplicate", "Behaviour Incident ID",
               "exact duplicate", "the same row twice")
        record("arbor_behaviour_incidents.csv", self.incidents, "conflicting duplicate id", "Behaviour Incident ID",
               "conflicting duplicate id", "same id as an earlier row, different severity and narrative")
        record("arbor_behaviour_incidents.csv", self.incidents, "hostile text", "Narrative", "hostile text",
               "a spreadsheet formula: valid row, must be stored as text and shown inert")
        record("arbor_behaviour_incidents.csv", self.incidents, "unlisted location", "Location", "warning",
               "a location not in vocabularies.yaml: accepted and reported")
        record("target_ratings.csv", self.ratings, "impossible date", "rated_on", "impossible date",
               "there is no 31 February")
        record("target_ratings.csv", self.ratings, "unknown target", "target_id", "unknown target",
               "no such target in targets.xlsx")
        record("arbor_interventions.csv", self.interventions, "ends before start", "End Datetime",
               "ends before start", "the end date is before the start date")
        record("sessions.csv", self.sessions, "no risk assessment", "risk_assessment_id", "warning",
               "a community session with no risk assessment: accepted with a warning")
        record("sessions.csv", self.sessions, "script note", "notes", "hostile text",
               "HTML in a note: valid row, must be escaped when shown")
        ra = self.risk
        for r in self.expired_ra:
            ra.loc[r, "_tag"] = "expired"
            later = self.sessions[(self.sessions["risk_assessment_id"] == ra.loc[r, "ra_id"])
                                  & (self.sessions["date"] > ra.loc[r, "review_by"])]
            self.mistakes.append({"file": "risk_assessments.csv", "row": int(r) + 1, "line": int(r) + 2,
                                  "column": "review_by", "value": ra.loc[r, "review_by"], "kind": "warning",
                                  "note": f"expired risk assessment named by {len(later)} community sessions dated "
                                          "after its review date (each should be a warning)", "sessions": len(later)})

    # ------------------------------------------------------------------ all of it
    def build(self):
        self.make_students()
        self.make_incidents()
        self.incidents_frame()
        self.make_interventions()
        self.make_targets()
        self.make_ratings()
        self.make_sessions()
        self.make_contacts()
        self.make_budget()
        self.plant_mistakes()
        drop = lambda f: f[[c for c in f.columns if not c.startswith("_")]]  # noqa: E731
        self.frames.update({
            "targets": self.targets,
            "target_ratings": drop(self.ratings),
            "sessions": drop(self.sessions),
            "incidents": drop(self.incidents)[ARBOR_INCIDENT_HEADER],
            "interventions": drop(self.interventions)[ARBOR_INTERVENTION_HEADER],
            "contacts": self.contacts,
            "budget": self.budget,
            "risk_assessments": drop(self.risk),
        })
        self.truth = {"seed": int(self.seed), "students": int(self.n), "start": START.strftime("%Y-%m-%d"),
                      "end": END.strftime("%Y-%m-%d"), "counts": self.counts, "planted": self.planted,
                      "mistakes": self.mistakes}
        return self


FILES = {  # table -> (file name, encoding, CRLF)
    "students": ("students.csv", "utf-8", False),
    "targets": ("targets.xlsx", None, False),
    "target_ratings": ("target_ratings.csv", "utf-8", False),
    "sessions": ("sessions.csv", "utf-8", False),
    "incidents": ("arbor_behaviour_incidents.csv", "utf-8-sig", True),
    "interventions": ("arbor_interventions.csv", "utf-8-sig", True),
    "contacts": ("contacts.csv", "cp1252", False),
    "budget": ("budget.csv", "utf-8", False),
    "risk_assessments": ("risk_assessments.csv", "utf-8", False),
}


def build_demo(students: int = 60, seed: int = 2026, settings=None) -> tuple[dict[str, pd.DataFrame], dict]:
    """The demo school in memory: export-shaped frames (keyed by canonical table) and the planted truth."""
    school = _School(students, seed, settings or load_settings()).build()
    return school.frames, school.truth


def write_demo(workspace, students: int = 60, seed: int = 2026, console=None) -> DemoResult:
    """Write the demo school's exports into WORKSPACE/data/raw and its truth into WORKSPACE/data/demo_truth.json.

    Files are written atomically and readable by their owner only (they look like pupil data). The same
    ``students`` and ``seed`` give byte-identical files.
    """
    frames, truth = build_demo(students, seed)
    raw = raw_dir(workspace)
    raw.mkdir(parents=True, exist_ok=True)
    files = []
    for table, (name, encoding, crlf) in FILES.items():
        frame = frames[table]
        data = _xlsx_bytes(frame, "Targets") if name.endswith(".xlsx") else _csv_bytes(frame, encoding, crlf)
        files.append(atomic_write(raw / name, lambda tmp, data=data: Path(tmp).write_bytes(data)))
    # A key worker's session log kept in Excel, made from `kwa template sessions` (issue 18).
    from kwanalytics.demo.workbook import ENTRIES, SESSION_LOG, session_log

    settings = load_settings(workspace)
    days = from_term_dates(settings.term_dates).between(START, END)
    book, caseload = session_log(frames["students"], settings, days, seed)
    data = fixed_bytes(book)
    files.append(atomic_write(raw / SESSION_LOG, lambda tmp: Path(tmp).write_bytes(data)))
    truth["session_log"] = {"file": SESSION_LOG, "rows": ENTRIES + 1, "entries": ENTRIES, "example_rows": 1,
                            "pupils": caseload}
    truth_path = Path(workspace) / "data" / "demo_truth.json"
    atomic_write_text(truth_path, json.dumps(truth, indent=2, ensure_ascii=False) + "\n")
    files.append(truth_path)
    if console is not None:
        _print_summary(console, workspace, frames, truth, files)
    return DemoResult(exit_code=0, files=files, truth=truth)


def _print_summary(console, workspace, frames, truth, files) -> None:
    from rich.table import Table

    table = Table(title=f"Demo school: {truth['students']} pupils, seed {truth['seed']}, "
                        f"{truth['start']} to {truth['end']}", title_justify="left")
    table.add_column("file")
    table.add_column("rows", justify="right")
    for t, (name, _, _) in FILES.items():
        table.add_row(name, f"{len(frames[t]):,}")
    if "session_log" in truth:
        table.add_row(truth["session_log"]["file"], f"{truth['session_log']['entries']:,} + the example row")
    console.print(table)
    kinds = ", ".join(f"{k} {v}" for k, v in truth["counts"].items())
    console.print(f"Planted pupils: {kinds}.")
    console.print(f"Deliberate mistakes: {len(truth['mistakes'])} (see data/demo_truth.json).")
    console.print(f"Written to {raw_dir(workspace)}. Next: kwa ingest --workspace {workspace}")
