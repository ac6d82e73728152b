"""The demo school's key-work records: interventions, targets and their ratings, sessions and risk assessments,
contacts and budget.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kwanalytics.demo.draws import END, START, choice
from kwanalytics.demo.exports import ARBOR_INTERVENTION_HEADER, money_text
from kwanalytics.demo.words import (CI_TARGETS, CL_TARGETS, COMMUNITY, CONTACT_METHODS, CONTACT_PARTIES,
    CONTACT_TEXT, GROUP_SIZE, KEY_WORKERS, ONSITE_ACTIVITIES, ONSITE_VENUES, PEER_NOTES, PROGRAMME_AIMS,
    PROGRAMME_CATEGORIES, PROGRAMME_FORMAT, RATING_EVIDENCE, SEMH_TARGETS, SESSION_NOTES, STAFF_RATE_GBP_PER_HOUR)


#: Planned provision, hours a week, taken in turn by enrolment (0.5-2 h, as a plan states it); every seventh
#: enrolment states none. Fixed, not drawn: a draw here would shift every later file of a seeded demo.
PLANNED_HOURS_PER_WEEK = ("1", "1.5", "0.5", "1", "2", "1")


def _planned_hours(i: int) -> str:
    return "" if i % 7 == 0 else PLANNED_HOURS_PER_WEEK[i % len(PLANNED_HOURS_PER_WEEK)]


class KeyWork:
    """The key-work records of _School (a mixin: it shares the school's state)."""

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
                        "Staff": self.key_worker[p], "Planned Hours Per Week": _planned_hours(i), "_tag": ""})
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
        area_i = np.where(k == 1, 0, np.where(k == 2, 1, choice(rng, [0, 1, 2], [0.45, 0.35, 0.2], len(k))))
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
        activity = np.array(onsite_names, dtype=object)[choice(rng, onsite_names,
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
        duration = np.array([30, 45, 60, 90])[choice(rng, [30, 45, 60, 90], [0.2, 0.35, 0.35, 0.1], m)]
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
            "engagement": engagement.astype(str), "cost_gbp": money_text(cost), "risk_assessment_id": ra,
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
            choice(rng, CONTACT_PARTIES, [w for _, w in CONTACT_PARTIES], m)]
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
