"""The deliberate mistakes the demo plants in its exports, each recorded in demo_truth.json with file, row, column
and value, so the tests can check every one is caught.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kwanalytics.demo.words import COMMUNITY, PROGRAMME_AIMS, STAFF_RATE_GBP_PER_HOUR


class Mistakes:
    """The planted mistakes of _School (a mixin: it shares the school's state)."""

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
                 "Outcome": "", "Staff": self.key_worker[p], "Planned Hours Per Week": "",
                 "_tag": "ends before start"}
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
        def record(file, frame, tag, column, kind, note):
            for i in np.flatnonzero(frame["_tag"].to_numpy() == tag):
                value = frame.loc[i, column]
                self.mistakes.append({"file": file, "row": int(i) + 1, "line": int(i) + 2, "column": column,
                                      "value": str(value), "kind": kind, "note": note})

        # (file, its frame, the planted row's tag, column, kind, what the reader is told), in the truth's order
        incidents = "arbor_behaviour_incidents.csv"
        planted = [
            (incidents, self.incidents, "severity", "Severity", "out of range", "severity must be 1 to 5"),
            (incidents, self.incidents, "unknown pupil", "Student ID", "unknown pupil",
             "no such pupil in students.csv"),
            (incidents, self.incidents, "exact duplicate", "Behaviour Incident ID", "exact duplicate",
             "the same row twice"),
            (incidents, self.incidents, "conflicting duplicate id", "Behaviour Incident ID",
             "conflicting duplicate id", "same id as an earlier row, different severity and narrative"),
            (incidents, self.incidents, "hostile text", "Narrative", "hostile text",
             "a spreadsheet formula: valid row, must be stored as text and shown inert"),
            (incidents, self.incidents, "unlisted location", "Location", "warning",
             "a location not in vocabularies.yaml: accepted and reported"),
            ("target_ratings.csv", self.ratings, "impossible date", "rated_on", "impossible date",
             "there is no 31 February"),
            ("target_ratings.csv", self.ratings, "unknown target", "target_id", "unknown target",
             "no such target in targets.xlsx"),
            ("arbor_interventions.csv", self.interventions, "ends before start", "End Datetime", "ends before start",
             "the end date is before the start date"),
            ("sessions.csv", self.sessions, "no risk assessment", "risk_assessment_id", "warning",
             "a community session with no risk assessment: accepted with a warning"),
            ("sessions.csv", self.sessions, "script note", "notes", "hostile text",
             "HTML in a note: valid row, must be escaped when shown"),
        ]
        for file, frame, tag, column, kind, note in planted:
            record(file, frame, tag, column, kind, note)
        ra = self.risk
        for r in self.expired_ra:
            ra.loc[r, "_tag"] = "expired"
            later = self.sessions[(self.sessions["risk_assessment_id"] == ra.loc[r, "ra_id"])
                                  & (self.sessions["date"] > ra.loc[r, "review_by"])]
            self.mistakes.append({"file": "risk_assessments.csv", "row": int(r) + 1, "line": int(r) + 2,
                                  "column": "review_by", "value": ra.loc[r, "review_by"], "kind": "warning",
                                  "note": f"expired risk assessment named by {len(later)} community sessions dated "
                                          "after its review date (each should be a warning)", "sessions": len(later)})
