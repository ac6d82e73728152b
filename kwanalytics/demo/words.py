"""The demo school's words: invented names, staff, categories and their other spellings, narratives, targets and
contact summaries. No first name is also a surname, a staff name or a word of these texts (tests/test_demo.py).
"""

from __future__ import annotations


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
