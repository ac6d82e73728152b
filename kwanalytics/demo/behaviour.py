"""The demo school's behaviour incidents: each pupil's planted kind (improves, escalation, cluster, time, place,
trigger, scattered, quiet) drawn pupil by pupil, then the incident columns vectorised.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from kwanalytics.demo.draws import choice, pick, spaced
from kwanalytics.demo.words import (ACTIONS, ANTECEDENTS, ANTECEDENT_SPELLINGS, ANTECEDENT_WEIGHTS, CATEGORIES,
    CATEGORY_SPELLINGS, CATEGORY_WEIGHTS, CLUSTER_CATEGORIES, KEY_WORKERS, LESSON_PERIODS, LOCATIONS,
    LOCATION_BY_PART, LOCATION_SPELLINGS, LOW_LEVEL, NARRATIVE, NON_PHYSICAL, PEER_NARRATIVE, PERIODS_AT,
    PERIOD_WEIGHTS, PHYSICAL, PLACES, PROGRAMME_CATEGORIES, SEVERITY_RANGE, SUBJECTS, TEACHERS, TIMES, TRIGGERS,
    WEEKDAYS)


# How many of each planted kind for 60 pupils; scaled in proportion for other sizes (see planted_counts).
KIND_PER_60 = {"improves": 8, "no_change": 5, "escalation": 4, "cluster": 4, "time": 4, "place": 4, "trigger": 4,
               "scattered": 20}


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


class Behaviour:
    """The incidents of _School (a mixin: it shares the school's state)."""

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
                inc.add(p, pick(rng, 0, D, k))
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
                parts = [pick(rng, max(0, start - 30), start, round(before * min(30, start))),
                         pick(rng, lo, max(0, start - 30), round(before * max(0, start - 30 - lo))),
                         pick(rng, 0, lo, round(0.08 * lo)),
                         pick(rng, start, stop, max(1, round(during * (stop - start)))),
                         pick(rng, stop, D, round(after * (D - stop)))]
                days = np.sort(np.concatenate(parts))
                # the programme's first category is what mostly brought the pupil to it
                inc.add(p, days, category=np.asarray(cats)[choice(rng, cats, [0.5, 0.3, 0.2], len(days))])
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
                    inc.add(p, spaced(rng, 0, s - 15, b, 15), category=np.array(nonphys)[
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
                others = pick(rng, 0, D, n_all - k)
                other_periods = [self.P[x] for x in PERIOD_WEIGHTS if x != period]
                inc.add(p, others, period=np.asarray(other_periods)[rng.integers(0, len(other_periods), len(others))])
                detail = {"weekday": wdname, "period": period, "incidents": n_all, "on_pattern": k}
            elif kind == "place":
                place = PLACES[j % len(PLACES)]
                n_all = int(rng.integers(8, 13))
                k = math.ceil(0.8 * n_all)
                pdays = pick(rng, 0, D, n_all)
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
                days = pick(rng, 0, D, k + m)
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
            days = spaced(rng, 0, self.D, k, 15)
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
            inc.add(p, spaced(rng, 0, first_window - 15, b, 15),
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
        period[todo] = np.array([self.P[x] for x in names])[choice(rng, names, list(PERIOD_WEIGHTS.values()),
                                                                      todo.sum())]
        part = np.where(np.isin(period, [self.P[x] for x in LESSON_PERIODS]), "lesson",
                        np.where(np.isin(period, [self.P["Break"], self.P["Lunch"]]), "break", "edge"))
        for name, weights in LOCATION_BY_PART.items():
            todo = (location < 0) & (part == name)
            places = list(weights)
            location[todo] = np.array([self.L[x] for x in places])[choice(rng, places, list(weights.values()),
                                                                            todo.sum())]
        todo = category < 0
        category[todo] = choice(rng, CATEGORIES, CATEGORY_WEIGHTS, todo.sum())
        todo = antecedent < 0
        antecedent[todo] = choice(rng, ANTECEDENTS, ANTECEDENT_WEIGHTS, todo.sum())
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
