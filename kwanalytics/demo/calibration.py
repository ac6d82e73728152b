"""Simulated schools for calibrating the watchlist (docs/patterns.md, `make calibrate`): synthetic only.

A *null* school is a year in which nothing is a pattern: each pupil has a constant rate of incidents per school day
(rates drawn from a gamma, so some pupils have many), and every incident's period, place, behaviour, antecedent
and severity are drawn from school-wide mixes, independent of the pupil and of time. A share of the pupils join
part-way through the year (admitted_on), so a flag that depends on a pupil's time on roll shows up as late joiners
flagged more often. Any flag on a null school is a false alarm by construction.

A *planted* school is a null school in which some pupils are given one pattern kind at a chosen strength; the
watchlist should find them (detection rate) while leaving the others alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kwanalytics.calendar import SchoolCalendar

# School-wide mixes of a simulated school (the shares a real special school's log roughly has).
CATEGORY_MIX = {"Low-level disruption": 0.2, "Defiance": 0.17, "Verbal abuse": 0.12, "Unkind words to peers": 0.1,
                "Leaving lesson": 0.1, "Absconding": 0.03, "Damage to property": 0.04, "Physical aggression": 0.06,
                "Bullying": 0.03, "Self-harm": 0.02, "Dysregulation": 0.1, "Misuse of technology": 0.03}
LOCATION_MIX = {"Classroom": 0.45, "Corridor": 0.15, "Playground": 0.12, "Dining hall": 0.08, "Toilets": 0.05,
                "Sensory room": 0.04, "Minibus": 0.03, "PE hall": 0.05, "Reception": 0.02, "Community": 0.01}
ANTECEDENT_MIX = {"Demand placed": 0.2, "Transition": 0.14, "Peer conflict": 0.16, "Unstructured time": 0.1,
                  "Sensory overload": 0.08, "Told no": 0.1, "Unexpected change": 0.07, "Difficult work": 0.1,
                  "Home or outside issue": 0.05}
SEVERITY_MIX = {1: 0.3, 2: 0.35, 3: 0.2, 4: 0.1, 5: 0.05}
#: The kinds a planted school can carry, each at three strengths (the share or size of the planted pattern).
PLANTED_KINDS = ("cluster", "time", "place", "behaviour", "trigger", "escalation")
STRENGTHS = {"cluster": (4, 6, 8), "escalation": (4, 8, 12), "time": (0.4, 0.6, 0.8), "place": (0.4, 0.6, 0.8),
             "behaviour": (0.5, 0.7, 0.9), "trigger": (0.5, 0.7, 0.9)}
STRENGTH_WORDS = {"cluster": "incidents within 5 school days on top of the pupil's rate",
                  "time": "of incidents on one weekday and period", "place": "of incidents in one place",
                  "behaviour": "of incidents one behaviour", "trigger": "of incidents after one antecedent",
                  "escalation": "more incidents over the last 5 school weeks, more each week"}


@dataclass
class SimulatedSchool:
    """The frames a watchlist needs, and per pupil whether they joined late and what was planted."""

    incidents: pd.DataFrame
    students: pd.DataFrame
    pupils: pd.DataFrame  # student_id, late_joiner, planted (kind or ""), strength


def _pick(rng, mix: dict, n: int) -> np.ndarray:
    keys = np.array(list(mix), dtype=object)
    p = np.array(list(mix.values()), dtype=float)
    return keys[rng.choice(len(keys), n, p=p / p.sum())]


def _period_mix(settings) -> dict:
    """Chance spreads incidents over the school day by each period's length (settings.yaml's school day)."""
    periods = settings.periods
    return dict(zip(periods["name"], periods["minutes"].astype(float)))


def null_school(calendar: SchoolCalendar, settings, pupils: int = 3000, seed: int = 0, late_share: float = 1 / 3,
                mean_per_year: float = 12.0, gamma_shape: float = 1.5, first_id: int = 0) -> SimulatedSchool:
    """A school year with no pattern at all (see the module's docstring); ``late_share`` join in the spring."""
    rng = np.random.default_rng(seed)
    days = calendar.days
    n_days = len(days)
    ids = np.array([f"N{first_id + i:05d}" for i in range(pupils)], dtype=object)
    rate = rng.gamma(gamma_shape, mean_per_year / n_days / gamma_shape, pupils)
    late = rng.random(pupils) < late_share
    spring = int(days.searchsorted(pd.Timestamp(f"{days[0].year + 1}-01-01")))
    first = np.where(late, rng.integers(spring, max(spring + 1, n_days - 40), pupils), 0)
    counts = rng.poisson(rate[:, None] * np.ones(n_days)[None, :])
    counts[np.arange(n_days)[None, :] < first[:, None]] = 0
    pupil_idx, day_idx = np.nonzero(counts)
    reps = counts[pupil_idx, day_idx]
    pupil_idx, day_idx = np.repeat(pupil_idx, reps), np.repeat(day_idx, reps)
    incidents = _incidents(rng, ids[pupil_idx], days[day_idx], settings)
    students = pd.DataFrame({"student_id": ids, "admitted_on": days[first].astype("datetime64[us]"),
                             "left_on": pd.Series(pd.NaT, index=range(pupils), dtype="datetime64[us]")})
    info = pd.DataFrame({"student_id": ids, "late_joiner": late, "planted": "", "strength": np.nan})
    return SimulatedSchool(incidents, students, info)


def _incidents(rng, student_ids, days, settings) -> pd.DataFrame:
    n = len(student_ids)
    periods = settings.periods
    period = _pick(rng, _period_mix(settings), n)
    start = dict(zip(periods["name"], periods["start_min"]))
    length = dict(zip(periods["name"], periods["minutes"]))
    minute = np.array([start[p] for p in period]) + (rng.random(n) * np.array([length[p] for p in period])).astype(int)
    at = pd.DatetimeIndex(days) + pd.to_timedelta(minute, unit="min")
    frame = pd.DataFrame({"student_id": student_ids, "occurred_at": at.astype("datetime64[us]"), "period": period,
                          "location": _pick(rng, LOCATION_MIX, n), "category": _pick(rng, CATEGORY_MIX, n),
                          "severity": pd.array(_pick(rng, SEVERITY_MIX, n).astype(int), dtype="Int64"),
                          "antecedent": _pick(rng, ANTECEDENT_MIX, n), "lesson": None, "staff": None})
    frame = frame.sort_values(["student_id", "occurred_at"], kind="stable").reset_index(drop=True)
    frame.insert(0, "incident_id", [f"I{i:07d}" for i in range(len(frame))])
    return frame


def planted_school(calendar: SchoolCalendar, settings, kind: str, strength, pupils: int = 300, planted: int = 30,
                   seed: int = 0, incidents_each: int = 10) -> SimulatedSchool:
    """A null school of ``pupils`` in which ``planted`` pupils, on roll all year, carry one pattern ``kind``.

    cluster: ``strength`` extra incidents within 5 school days on a pupil with a usual rate; escalation: ``strength``
    extra incidents over the last 5 school weeks, more in each later day (a ramp); time, place, behaviour
    and trigger: ``strength`` (a share) of the pupil's ``incidents_each`` incidents on one weekday and period, in
    one place, of one behaviour or after one antecedent, the rest from the school's mixes.
    """
    rng = np.random.default_rng(seed + 7919)
    school = null_school(calendar, settings, pupils, seed=seed)
    days = calendar.days
    ids = [f"P{i:05d}" for i in range(planted)]
    rows = []
    for sid in ids:
        n = incidents_each
        day_idx = np.sort(rng.choice(len(days), n, replace=True))
        frame = _incidents(rng, np.array([sid] * n, dtype=object), days[day_idx], settings)
        if kind in ("cluster", "escalation"):
            if kind == "cluster":
                start = int(rng.integers(0, len(days) - 5))
                extra = np.sort(start + rng.integers(0, 5, int(strength)))
            else:  # a ramp over the last 25 school days: each day's chance grows with its place in them
                ramp = np.arange(1, 26, dtype=float)
                extra = np.sort(len(days) - 25 + rng.choice(25, int(strength), p=ramp / ramp.sum()))
            more = _incidents(rng, np.array([sid] * len(extra), dtype=object), days[extra], settings)
            frame = pd.concat([frame, more], ignore_index=True)
        else:
            on = rng.permutation(n) < int(round(strength * n))
            if kind == "time":
                weekday, period = rng.integers(0, 5), rng.choice(["Period 1", "Period 4", "Lunch", "Period 5"])
                candidates = np.flatnonzero(days.day_of_week == weekday)
                chosen = days[np.sort(rng.choice(candidates, on.sum(), replace=False))]
                start = int(settings.periods.set_index("name").loc[period, "start_min"])
                frame.loc[on, "occurred_at"] = (chosen + pd.Timedelta(minutes=start + 5)).astype("datetime64[us]")
                frame.loc[on, "period"] = period
            else:
                column, mix = {"place": ("location", LOCATION_MIX), "behaviour": ("category", CATEGORY_MIX),
                               "trigger": ("antecedent", ANTECEDENT_MIX)}[kind]
                # a value the school sees now and then, not the commonest (a classroom pattern is no pattern)
                value = rng.choice([k for k, v in mix.items() if 0.03 <= v <= 0.12])
                frame.loc[on, column] = value
        rows.append(frame)
    extra = pd.concat(rows, ignore_index=True).drop(columns="incident_id")
    incidents = pd.concat([school.incidents.drop(columns="incident_id"), extra], ignore_index=True)
    incidents = incidents.sort_values(["student_id", "occurred_at"], kind="stable").reset_index(drop=True)
    incidents.insert(0, "incident_id", [f"I{i:07d}" for i in range(len(incidents))])
    students = pd.concat([school.students, pd.DataFrame({
        "student_id": ids, "admitted_on": days[0], "left_on": pd.NaT})], ignore_index=True)
    students["admitted_on"] = students["admitted_on"].astype("datetime64[us]")
    students["left_on"] = students["left_on"].astype("datetime64[us]")
    info = pd.concat([school.pupils, pd.DataFrame({"student_id": ids, "late_joiner": False, "planted": kind,
                                                   "strength": float(strength)})], ignore_index=True)
    return SimulatedSchool(incidents, students, info)
