"""Tunes the burst rule of the self-service figures: what share of an office's real visits it
leaves out (everyone behind one address), against how much a script from one address that knows
the rule can still add.

    python bench/burst_rule.py [--days 250] [--seed 7]

An office of S people shares one public address. On a workday each person starts a visit with
probability RATE, mostly in the morning and the afternoon; on one workday in WAVE_EVERY, an
announcement or an outage sends a share of the office (10-40 %) to the help center within
minutes (delays exponential, mean WAVE_MINUTES). A rule is a list of limits "N per W": a visit is
left out when some window of length W holding it (and ending at a visit) holds more than N visits
from its address; that is what portal/tracking/integrity.py does as each visit opens.

The script that knows the rule paces itself just under every limit: the most it can add in a
period is the smallest of N x (windows of length W in the period)."""
from __future__ import annotations

import argparse
import bisect
import math
import random
from dataclasses import dataclass

OFFICES = (10, 50, 200, 1000)
RATE = 0.15          # visits per person and workday (a help center, not an intranet)
WAVE_EVERY = 10      # workdays between waves, on average
WAVE_MINUTES = 10.0  # mean delay between the announcement and a colleague's visit
DAY = 24 * 60
# Minutes after midnight and relative weight of each working hour.
HOURS = [(8, 1), (9, 3), (10, 3), (11, 3), (12, 1), (13, 2), (14, 3), (15, 3), (16, 2), (17, 1)]

RULES = {
    "30 per 10 minutes": [(30, 10)],
    "10 per 10 minutes": [(10, 10)],
    "60 per hour": [(60, 60)],
    "5 per minute": [(5, 1)],
    "5 per minute; 60 per hour (default)": [(5, 1), (60, 60)],
    "8 per minute; 60 per hour": [(8, 1), (60, 60)],
    "5 per minute; 40 per hour; 200 per day": [(5, 1), (40, 60), (200, DAY)],
    "5 per minute; 60 per hour; 300 per day": [(5, 1), (60, 60), (300, DAY)],
}


@dataclass
class Cost:
    """Visits of one office size over the simulated days, and how many the rule left out."""

    visits: int = 0
    lost: int = 0
    wave_visits: int = 0
    wave_lost: int = 0

    def share(self, lost, visits):
        return 100.0 * lost / visits if visits else 0.0


def _minute_of_day(rng):
    hour = rng.choices([h for h, _ in HOURS], weights=[w for _, w in HOURS])[0]
    return hour * 60 + rng.random() * 60


def office_days(size: int, days: int, rng: random.Random):
    """Yield (visit start times in minutes, sorted; whether a wave happened) for each workday."""
    for day in range(days):
        base = day * DAY
        n = _poisson(rng, size * RATE)
        times = [base + _minute_of_day(rng) for _ in range(n)]
        wave = rng.random() < 1 / WAVE_EVERY
        if wave:
            start = base + _minute_of_day(rng)
            share = rng.uniform(0.1, 0.4)
            times += [start + rng.expovariate(1 / WAVE_MINUTES) for _ in range(size) if rng.random() < share]
        yield sorted(times), wave


def _poisson(rng, mean):
    # Knuth's method for small means, a normal approximation for large ones.
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def flagged(times: list[float], rule: list[tuple[int, float]]) -> set[int]:
    """Indexes of visits the rule leaves out, the visits opening in time order."""
    out = set()
    for limit, window in rule:
        for i, t in enumerate(times):
            first = bisect.bisect_right(times, t - window, 0, i)
            if i - first + 1 > limit:
                out.update(range(first, i + 1))
    return out


def script_bound(rule, minutes: float) -> int:
    """The most visits a script that knows the rule adds from one address in `minutes`."""
    return min(limit * math.ceil(minutes / window) for limit, window in rule)


def simulate(days: int, seed: int):
    """{rule: {office size: Cost}}."""
    results = {}
    for name, rule in RULES.items():
        rng = random.Random(seed)  # the same offices for every rule
        per_size = {}
        for size in OFFICES:
            cost = Cost()
            for times, wave in office_days(size, days, rng):
                lost = len(flagged(times, rule))
                cost.visits += len(times)
                cost.lost += lost
                if wave:
                    cost.wave_visits += len(times)
                    cost.wave_lost += lost
            per_size[size] = cost
        results[name] = per_size
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    results = simulate(args.days, args.seed)
    print(f"{args.days} workdays; {RATE} visits per person and day; a wave every {WAVE_EVERY} days "
          f"(10-40 % of the office, mean delay {WAVE_MINUTES:.0f} min)")
    head = " | ".join(f"S={s}: all / wave days" for s in OFFICES)
    print(f"{'rule':40} | {head} | script adds per minute / hour / day")
    for name, per_size in results.items():
        cells = " | ".join(f"{c.share(c.lost, c.visits):5.1f}% / {c.share(c.wave_lost, c.wave_visits):5.1f}%"
                           .ljust(len(f"S={s}: all / wave days")) for s, c in per_size.items())
        rule = RULES[name]
        bound = f"{script_bound(rule, 1)} / {script_bound(rule, 60)} / {script_bound(rule, DAY)}"
        print(f"{name:40} | {cells} | {bound}")
    visits = {s: c.visits for s, c in next(iter(results.values())).items()}
    print("visits simulated per office size:", ", ".join(f"S={s}: {n}" for s, n in visits.items()))


if __name__ == "__main__":
    main()
