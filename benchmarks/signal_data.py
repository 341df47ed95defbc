"""A labelled benchmark of indicator series for judging detection: which series deteriorated, how, since when and by
how much, written as the NYC Open Data MMR long table that ``indicators/importers/open_data.py`` imports, plus a
generic ``indicator,period,value`` file of restatements. Everything is synthetic (made-up agencies BENCHA…BENCHH,
ids B1001…); nothing here is real NYC data. ``generate()`` is deterministic: a seed gives byte-identical files.

Series. A ``Monthly`` indicator ``X`` becomes three Percolate series: ``X`` (fiscal years, from the June row's
year-to-date value), ``X-M`` (each month's value) and ``X-4M`` (the October row's July–October value, preliminary);
an ``Annually`` indicator becomes ``X`` and, for half of them, ``X-4M``. ``labels`` has one entry per series.

Time. Monthly indicators start in July (64, 76 or 88 months) so that every fiscal year's June and October
year-to-date values are complete, and end in October 2026 (``last_month``): the latest fiscal year is FY2026
(July 2025 – June 2026), the latest 4-month value FY2027's. Annual indicators have 8–12 fiscal years ending FY2026.
``as_of`` (15 November 2026) is when an agency's October figures would be in.

Types and scales. Counts (20 to 300,000 a month), percentages, response times in minutes, dollar totals ($000,
additive) and unit costs ($). Additive series publish the sum of the months as year-to-date, the others the mean.
Up-direction and neutral percentages sit at 40–99 %; down-direction ones ("calls abandoned (%)") at 5–40 %, where
such indicators really are, not at 40–99 %. Percentage levels are lowered where seasonality, trend and noise could
push them past 100, and any value is capped at 100.0 (a published 100 % is real; 101 % is not).

Seasonality. A 12-month pattern per indicator, peaking in winter or summer, dipping at the holidays (December,
less in August), or flat. Its amplitude depends on the type, as in the MMR: counts up to ±35 %, dollar totals
±20 %, times ±15 %, unit costs ±8 %, percentages ±6 %.

Trend. Clean series move by −2 % to +4 % a year in their good direction (neutral ones ±2 %), so some clean series
decline slowly, as real ones do; a detector that flags any decline pays for it in false alarms.

Noise. Multiplicative, autocorrelated month to month (AR(1), φ 0–0.6, like real service data, where a bad month
is often followed by another) in four bands of coefficient of variation: quiet 0.8–1.2 %, moderate 2.5–3.5 %,
noisy 5–7 %, very noisy 9–11 %. ``Label.noise`` is the CV of a series' noise around its seasonal, trended level:
the band's value for ``X-M``; for ``X`` and ``X-4M`` the CV of the sum (mean) of 12 (4) autocorrelated months,
which is why fiscal-year series are quieter than their months; both include the rounding error of the published
numbers. Annual indicators draw annual noise from the same bands (φ 0–0.4); their 4-month values are 1.4× noisier
(a third of the year) and correlated with the year's.

Low counts. About 5 % of monthly indicators (fatalities, collapses…) average 0.5–5 a month as Poisson counts: many zero
months, so rules must survive zero baselines. Their noise (CV ≥ 45 %) makes any injected change indistinguishable
from chance, so they are always clean.

Rounding. Counts and dollar totals are whole numbers; percentages and times have one decimal, unit costs two, and
a few (12 % of those whose level is 20 or more) are published as whole numbers, as some MMR indicators are.

Targets. About half of the indicators (55 % of the non-neutral ones) have a numeric ``targetmmr`` for the fiscal
year, a round number (3 significant figures, no finer than the values) that the clean FY2026 value beats by 3–15 %
of the target (where no round number fits, a directional target); the rest have ``Up``/``Down`` or ``*``, and
neutral ones ``*``. The importer keeps numeric targets only on ``X`` (companions drop them) and keeps the latest
row's target, so every row carries the same one.

Deteriorations. About 35 % of the non-neutral indicators get one, always in the bad direction (lower for "up",
higher for "down"; a worsening ``w`` multiplies the level by 1 − w or 1 + w), the four kinds about equally often,
separately for monthly and annual indicators. Monthly: **shift**, the level w = 8–25 % worse for the last 3–12
months (so a year earlier is untouched); **drift**, a linear slide over the last 6–18 months reaching 10–30 %;
**sustained**, the last 4–8 months each 2–5 % worse than the one before (about 30 % at most in all);
**target**, a persistent level change of at most 30 % starting April–October 2025, sized so that the published
FY2026 value misses the target by 8–25 % of it. Annual: shift of the latest 1–2
fiscal years by 8–25 %, drift over FY2024–FY2026 to 10–30 %, sustained = the last 3–4 fiscal years each 3–8 %
worse, target as above; a 4-month value of FY2027 keeps FY2026's worsening. ``Label.magnitude`` is w at
``last_month`` (the deteriorated level against the level the series would have had), ``Label.start`` the first
month (annual: 1 July of the first fiscal year) affected.

Detectability. A magnitude is at least 2.5× the noise of every series of the indicator (a change within a
series' own noise is not a deterioration anyone could call); indicators where that needs more than 25 % (most
very noisy ones) get none. Sustained declines go only where each step beats 1.5× the noise plus the seasonal and
trend improvement of those months, so the consecutive declines show; that is quiet or moderate series with
little seasonality, so results for that kind say nothing about noisy or strongly seasonal series.

Labels. Per series: ``clean`` (indicator not injected); ``dirty`` when the value of its latest period (``X``:
FY2026; ``X-4M``: July–October 2026; ``X-M``: October 2026) is worse than it would have been by at least half the
magnitude and by at least 2.5× that series' own noise — a fiscal year with one or two bad months at its end has
not visibly deteriorated as a year; else ``excluded`` (the deterioration has not reached that series' latest
value: neither a hit nor a false alarm). A ``target`` injection's companions carry no target and are labelled by
their level the same way.

Restatements. ``restatements`` re-sends the last 1–3 months (annual: FY2026) of 4 % of the indicators, clean and
dirty alike, changed by ±0.5–3 % but by no more than the series' monthly (annual) noise, as agencies correct
figures; a monthly restatement inside July–October 2026 also restates the 4-month value. A restated clean FY2026
value still beats its target by 3–15 %. Low-count series are not restated (±3 % of 2 is 2).
"""

import csv
import datetime as dt
import io
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

HEADER = (
    "id", "parentid", "agency", "agency_name", "service", "goal", "indicator", "description", "source", "retired",
    "desireddirection", "frequency", "reporting_period", "critical", "measurement_type", "additive",
    "multiplication_factor", "lagtime", "geo", "geotype", "geovalue", "fiscalyear", "valuedate", "acceptedvalue",
    "acceptedvalueytd", "targetmmr",
)  # fmt: skip
LAST_MONTH = dt.date(2026, 10, 1)
AS_OF = dt.date(2026, 11, 15)
LATEST_FY = 2026  # July 2025 – June 2026, the latest complete fiscal year
_LAST = LAST_MONTH.year * 12 + LAST_MONTH.month - 1  # months are counted as year * 12 + month - 1
KINDS = ("shift", "drift", "sustained", "target")
INJECTED_SHARE = 0.35
RESTATED_SHARE = 0.04
MAX_MAGNITUDE = 0.25  # the largest magnitude worth 2.5× a series' noise (see "Detectability")

AGENCIES = (
    ("BENCHA", "Benchmark Department of Streets"),
    ("BENCHB", "Benchmark Fire and Emergency Service"),
    ("BENCHC", "Benchmark Housing Authority"),
    ("BENCHD", "Benchmark Department of Health"),
    ("BENCHE", "Benchmark Department of Social Services"),
    ("BENCHF", "Benchmark Department of Parks"),
    ("BENCHG", "Benchmark Department of Revenue"),
    ("BENCHH", "Benchmark Department of Buildings"),
)
SERVICES = (
    ("Respond to emergencies", ("Respond quickly to emergencies", "Reduce harm from incidents")),
    ("Maintain public infrastructure", ("Keep streets and facilities in good repair", "Control maintenance costs")),
    ("Serve the public", ("Answer requests promptly", "Resolve cases fairly and on time")),
    ("Enforce the code", ("Inspect on schedule", "Correct violations")),
    ("Collect revenue", ("Collect what is owed", "Pay claims accurately")),
    ("Support residents", ("Connect residents to services", "Keep clients safe")),
)
QUALIFIERS = (
    "citywide", "Northern district", "Southern district", "Eastern district", "Western district", "Harbor district",
    "Central district", "Riverside district", "Hillcrest district", "Bayview district", "Lakeside district",
    "Old Town district", "Parkside district", "Midtown district", "Uptown district", "Downtown district",
    "Airport district", "Industrial district", "Island district", "Market district", "day shift", "night shift",
    "weekend service", "walk-in centers", "mobile units", "contracted providers", "in-house staff", "pilot program",
    "capital program", "expense program",
)  # fmt: skip
# (type, direction) → name stems and the unit suffix that makes the importer infer the measurement type.
NAMES = {
    ("count", "up"): ["Inspections completed", "Permits issued", "Applications processed", "Repairs completed",
                      "Clients served", "Trees planted", "Potholes repaired", "Cases closed", "Training sessions held",
                      "Visits to recreation centers", "Meals delivered", "Units inspected"],
    ("count", "down"): ["Complaints received", "Missed collections", "Cases pending", "Reported incidents",
                        "Shelter entrants", "Open violations", "Street defects reported", "Overdue inspections",
                        "Service outages"],
    ("count", "neutral"): ["Calls received", "Tons of refuse collected", "Service requests received",
                           "Permit applications received"],
    ("low_count", "down"): ["Fatalities", "Serious injuries to staff", "Structural collapses",
                            "Fires in city facilities", "Vehicle collisions involving the city fleet",
                            "Escapes from custody"],
    ("percent", "up"): ["Calls answered in 30 seconds", "Inspections completed on time", "Streets rated clean",
                        "Applications decided within 30 days", "Customers satisfied", "Cases resolved within target",
                        "Facilities in good condition", "Clients placed in permanent housing"],
    ("percent", "down"): ["Cases pending over 90 days", "Vehicles out of service", "Re-inspections failed",
                          "Repeat complaints", "Payments made late", "Calls abandoned"],
    ("percent", "neutral"): ["Requests submitted online", "Cases referred by partners"],
    ("time", "down"): ["Average response time to emergencies", "Average wait time at service centers",
                       "Average time to answer calls", "Median time to dispatch", "Average hold time",
                       "Average time to first contact"],
    ("time", "up"): ["Average time spent with each client"],
    ("time", "neutral"): ["Average visit length"],
    ("currency_total", "up"): ["Revenue collected", "Fines collected", "Grant funds drawn down"],
    ("currency_total", "down"): ["Overtime spending", "Settlement payments"],
    ("currency_total", "neutral"): ["Payments issued"],
    ("currency_unit", "up"): ["Average collection per case"],
    ("currency_unit", "down"): ["Cost per ton collected", "Average cost per repair", "Cost per inspection",
                                "Cost per case"],
    ("currency_unit", "neutral"): ["Average payment per claim"],
}  # fmt: skip
UNITS = {"count": "", "low_count": "", "percent": " (%)", "time": " (minutes)", "currency_total": " ($000)",
         "currency_unit": " ($)"}  # fmt: skip
MEASUREMENT_TYPES = {"count": "Number", "low_count": "Number", "percent": "Percent", "time": "Time",
                     "currency_total": "Currency", "currency_unit": "Currency"}  # fmt: skip
# Share of indicators of each type, and of each direction for it (neutral about 10 % overall).
TYPES = (("count", 0.36), ("percent", 0.30), ("time", 0.14), ("currency_unit", 0.09), ("currency_total", 0.06),
         ("low_count", 0.065))  # fmt: skip
UP_SHARE = {"count": 0.5, "percent": 0.7, "time": 0.15, "currency_total": 0.6, "currency_unit": 0.2, "low_count": 0}
SEASONAL_AMPLITUDE = {"count": 0.35, "low_count": 0.35, "currency_total": 0.20, "time": 0.15, "currency_unit": 0.08,
                      "percent": 0.06}  # fmt: skip
NOISE_BANDS = (("quiet", 0.008, 0.012, 0.25), ("moderate", 0.025, 0.035, 0.35), ("noisy", 0.05, 0.07, 0.25),
               ("very noisy", 0.09, 0.11, 0.15))  # fmt: skip
FOUR_MONTH_NOISE = 1.4  # an annual indicator's 4-month value against its annual noise


@dataclass(frozen=True)
class Label:
    series: str  # the Percolate indicator external_id (X, X-M or X-4M)
    status: str  # "clean" | "dirty" | "excluded"
    kind: str  # "" for clean, else "shift" | "drift" | "sustained" | "target"
    start: dt.date | None  # first month the deterioration affects (None for clean)
    magnitude: float  # the deterioration's size as a fraction (0.12 = 12 % worse), 0 for clean
    noise: float  # the series' noise level (coefficient of variation of its monthly/annual values)
    frequency: str  # "monthly" | "annual" | "four_month"
    direction: str  # "up" | "down" | "neutral"


@dataclass
class SignalSet:
    main: bytes  # the Open Data long CSV (UTF-8)
    restatements: bytes  # a second file, generic long CSV with header `indicator,period,value`, restating values
    labels: dict[str, Label]  # one per series (every indicator the importer will create from `main`)
    as_of: dt.date  # the date to run the check as of (a few days after the last month ends)
    last_month: dt.date  # first day of the last month with data


@dataclass
class _Indicator:
    """One generated indicator: its metadata, its clean process and what was done to it."""

    id: str
    monthly: bool
    agency: tuple[str, str]
    service: str
    goal: str
    name: str
    type: str
    direction: str
    critical: bool
    decimals: int
    base: float  # the clean level at last_month before seasonality (monthly: a month's; annual: a year's)
    growth: float  # the clean level's yearly factor
    season: list[float]  # 12 factors in fiscal order (July first), mean 1
    sigma: float  # CV of the noise of one value (a month, or a fiscal year for annual indicators)
    phi: float  # autocorrelation of consecutive noise terms
    first_fy: int
    four_month: bool  # annual indicators only; monthly ones always have 4-month values
    noise: dict[str, float] = field(default_factory=dict)  # series suffix → Label.noise
    clean: dict[int, float] = field(default_factory=dict)  # month (annual: fiscal year) → clean unrounded value
    clean4: dict[int, float] = field(default_factory=dict)  # annual: fiscal year → clean unrounded 4-month value
    target: float | None = None
    target_text: str = "*"
    kind: str = ""
    start: int | None = None  # first month (annual: fiscal year) affected
    magnitude: float = 0.0
    worse: dict[int, float] = field(default_factory=dict)  # month (annual: fiscal year) → worsening w
    values: dict[int, float] = field(default_factory=dict)  # published (rounded) values
    values4: dict[int, float] = field(default_factory=dict)  # annual: published 4-month values

    @property
    def additive(self) -> bool:
        return self.type in ("count", "low_count", "currency_total")

    @property
    def sign(self) -> int:
        return -1 if self.direction == "down" else 1


# -- time ---------------------------------------------------------------------------------------------------------
def _date(month: int) -> dt.date:
    return dt.date(month // 12, month % 12 + 1, 1)


def _fy(month: int) -> int:
    """The fiscal year a month belongs to (July starts the next year's)."""
    return month // 12 + 1 if month % 12 >= 6 else month // 12


def _fy_start(fy: int) -> int:
    return (fy - 1) * 12 + 6


def _months(first_fy: int) -> range:
    return range(_fy_start(first_fy), _LAST + 1)


# -- numbers --------------------------------------------------------------------------------------------------------
def _fmt(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return "0" if decimals == 0 and text == "-0" else text


def _round(value: float, decimals: int) -> float:
    return float(_fmt(value, decimals))


def _loguniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _ar1(rng: random.Random, n: int, sigma: float, phi: float) -> list[float]:
    """A stationary AR(1) sequence with standard deviation ``sigma``."""
    out, innovation = [], sigma * math.sqrt(1 - phi * phi)
    value = rng.gauss(0, sigma)
    for _ in range(n):
        out.append(value)
        value = phi * value + rng.gauss(0, innovation)
    return out


def _aggregate_noise(sigma: float, phi: float, weights: list[float]) -> float:
    """CV of a weighted sum of AR(1) log-noise terms (the noise of a year's or 4 months' total or mean)."""
    variance = sum(wi * wj * phi ** abs(i - j) for i, wi in enumerate(weights) for j, wj in enumerate(weights))
    return sigma * math.sqrt(variance) / sum(weights)


# -- indicators -----------------------------------------------------------------------------------------------------
def _pick(rng: random.Random, weighted) -> str:
    point, total = rng.random() * sum(w for _, w in weighted), 0.0
    for item, weight in weighted:
        total += weight
        if point < total:
            return item
    return weighted[-1][0]


def _season(rng: random.Random, kind: str) -> list[float]:
    """12 multiplicative factors in fiscal order (July first) with mean 1, at most ``amplitude`` away from 1."""
    top = SEASONAL_AMPLITUDE[kind]
    shape = _pick(rng, (("flat", 0.2), ("winter", 0.3), ("summer", 0.3), ("holiday", 0.2)))
    if shape == "flat":
        amplitude, phase = rng.uniform(0, min(0.02, top)), rng.uniform(0, 12)
        raw = [math.cos(2 * math.pi * (m - phase) / 12) for m in range(12)]
    elif shape == "holiday":
        amplitude = rng.uniform(0.3 * top, top)
        dips = {1: 0.4, 4: 0.2, 5: 1.0, 6: 0.3}  # August, November, December, January (fiscal months from July)
        raw = [-dips.get(m, 0) for m in range(12)]
    else:
        amplitude = rng.uniform(0.1 * top, top)
        peak = (6 if shape == "winter" else 0) + rng.choice((-1, 0, 0, 1))  # January or July, give or take a month
        harmonic, phase = rng.uniform(0, 0.3), rng.uniform(0, 2 * math.pi)
        raw = [
            math.cos(2 * math.pi * (m - peak) / 12) + harmonic * math.cos(4 * math.pi * m / 12 + phase)
            for m in range(12)
        ]
    mean = sum(raw) / 12
    spread = max(abs(r - mean) for r in raw)
    return [1 + amplitude * (r - mean) / spread for r in raw]


def _base(rng: random.Random, kind: str, direction: str, monthly: bool) -> float:
    per_year = 1 if monthly else 12
    if kind == "count":
        return _loguniform(rng, 20, 300_000) * per_year
    if kind == "low_count":
        return rng.uniform(0.5, 5)
    if kind == "percent":
        return rng.uniform(5, 40) if direction == "down" else rng.uniform(40, 99)
    if kind == "time":
        return _loguniform(rng, 2, 90)
    if kind == "currency_total":
        return _loguniform(rng, 50, 50_000) * per_year
    return _loguniform(rng, 15, 2_500)


def _make(rng: random.Random, number: int, monthly: bool, names: set[str]) -> _Indicator:
    kind = _pick(rng, TYPES if monthly else [(t, w) for t, w in TYPES if t != "low_count"])
    if kind == "low_count":
        direction = "down"
    elif rng.random() < 0.105:
        direction = "neutral"
    else:
        direction = "up" if rng.random() < UP_SHARE[kind] else "down"
    stems = NAMES[(kind, direction)]
    for attempt in range(1000):
        stem = rng.choice(stems)
        name = f"{stem} — {rng.choice(QUALIFIERS)}" + (f" {attempt}" if attempt > 50 else "") + UNITS[kind]
        if name not in names:
            names.add(name)
            break
    agency = AGENCIES[rng.randrange(len(AGENCIES))]
    service, goals = SERVICES[(AGENCIES.index(agency) + rng.randrange(3)) % len(SERVICES)]
    goal_index = rng.randrange(len(goals))
    goal = f"Goal {SERVICES.index((service, goals)) + 1}{'abc'[goal_index]}: {goals[goal_index]}"
    whole = rng.random() < 0.12  # published as whole numbers (only where the level is 20 units or more, below)
    band = _pick(rng, [((low, high), share) for _, low, high, share in NOISE_BANDS])
    sigma = rng.uniform(*band)
    rate = rng.uniform(-0.02, 0.02) if direction == "neutral" else rng.uniform(-0.02, 0.04)
    growth = 1 + rate * (-1 if direction == "down" else 1)
    first_fy = LATEST_FY + 1 - rng.choice((5, 6, 7)) if monthly else LATEST_FY + 1 - rng.randint(8, 12)
    indicator = _Indicator(
        id=f"B{1001 + number}",
        monthly=monthly,
        agency=agency,
        service=service,
        goal=goal,
        name=name,
        type=kind,
        direction=direction,
        critical=rng.random() < 0.2,
        decimals={"count": 0, "low_count": 0, "currency_total": 0, "percent": 1, "time": 1, "currency_unit": 2}[kind],
        base=_base(rng, kind, direction, monthly),
        growth=growth,
        season=_season(rng, kind),
        sigma=sigma,
        phi=rng.uniform(0, 0.6) if monthly else rng.uniform(0, 0.4),
        first_fy=first_fy,
        four_month=monthly or number % 2 == 0,
    )
    if kind == "percent":
        # Keep the clean level (with seasonality, trend over the history and 2.5 σ of noise) and a 30 % worsening
        # of a down-direction percentage under 100.
        years = LATEST_FY + 1 - first_fy
        trend = max(growth**-years, 1.0)
        room = max(indicator.season) * trend * math.exp(2.5 * sigma) * (1.3 if direction == "down" else 1)
        indicator.base = min(indicator.base, 99.5 / room)
    if whole and kind in ("percent", "time", "currency_unit") and indicator.base >= 20:
        indicator.decimals = 0
    return indicator


def _simulate_clean(rng: random.Random, ind: _Indicator) -> None:
    """The clean, unrounded values and the noise level of each series."""
    if ind.monthly:
        months = _months(ind.first_fy)
        noise = _ar1(rng, len(months), ind.sigma, ind.phi)
        for month, e in zip(months, noise):
            level = ind.base * ind.season[(month - 6) % 12] * ind.growth ** ((month - _LAST) / 12)
            ind.clean[month] = level * math.exp(e)
            if ind.type == "low_count":  # never injected: the Poisson count is the clean value itself
                ind.clean[month] = _poisson(rng, ind.clean[month])
        monthly = ind.sigma
        yearly = _aggregate_noise(ind.sigma, ind.phi, ind.season)
        four = _aggregate_noise(ind.sigma, ind.phi, ind.season[:4])
        if ind.type == "low_count":  # Poisson noise on top: CV 1/√mean
            monthly = math.sqrt(monthly**2 + 1 / ind.base)
            yearly = math.sqrt(yearly**2 + 1 / (12 * ind.base))
            four = math.sqrt(four**2 + 1 / (sum(ind.season[:4]) * ind.base))
        else:
            monthly = math.hypot(monthly, _rounding_noise(ind, 1))
            yearly = math.hypot(yearly, _rounding_noise(ind, 12))
            four = math.hypot(four, _rounding_noise(ind, 4))
        ind.noise = {"": yearly, "-M": monthly, "-4M": four}
        return
    years = list(range(ind.first_fy, LATEST_FY + 2))  # FY2027: only its 4-month value is published
    noise = _ar1(rng, len(years), ind.sigma, ind.phi)
    sigma4 = FOUR_MONTH_NOISE * ind.sigma
    rho = 0.5  # correlation of a 4-month value's noise with its year's
    share = sum(ind.season[:4]) / (12 if ind.additive else 4)
    for fy, e in zip(years, noise):
        if fy <= LATEST_FY:
            ind.clean[fy] = ind.base * ind.growth ** (fy - LATEST_FY) * math.exp(e)
        if ind.four_month:
            e4 = rho * sigma4 / ind.sigma * e + math.sqrt(1 - rho * rho) * rng.gauss(0, sigma4)
            ind.clean4[fy] = ind.base * share * ind.growth ** (fy - LATEST_FY - 1 / 3) * math.exp(e4)
    ind.noise = {"": math.hypot(ind.sigma, _rounding_noise(ind, 1))}
    if ind.four_month:
        ind.noise["-4M"] = math.hypot(sigma4, _rounding_noise(ind, 1, share))


def _rounding_noise(ind: _Indicator, months: int, share: float = 1.0) -> float:
    """CV added by publishing rounded numbers (a rounding error is uniform over one unit: σ = unit / √12), for a
    value of ``months`` rounded months: a sum carries the months' errors, a mean also its own rounding."""
    unit = 10.0**-ind.decimals / math.sqrt(12)
    level = ind.base * share
    if ind.additive:
        return unit * math.sqrt(months) / (months * level)
    return unit * math.sqrt(1 / months + (1 if months > 1 else 0)) / level


def _publish(value: float, ind: _Indicator) -> float:
    value = _round(value, ind.decimals)
    return min(max(value, 0.0), 100.0) if ind.type == "percent" else max(value, 0.0)


def _fiscal_total(ind: _Indicator, values: dict[int, float], fy: int, months: int = 12) -> float:
    """What the Open Data row publishes as year-to-date after ``months`` months of fiscal year ``fy``."""
    chosen = [values[m] for m in range(_fy_start(fy), _fy_start(fy) + months)]
    total = sum(chosen) if ind.additive else sum(chosen) / len(chosen)
    return _round(total, ind.decimals)


def _fy_value(ind: _Indicator, worse: dict[int, float]) -> float:
    """The FY2026 value the file publishes when the level is made ``worse``."""
    if not ind.monthly:
        return _publish(ind.clean[LATEST_FY] * (1 - ind.sign * worse.get(LATEST_FY, 0.0)), ind)
    months = range(_fy_start(LATEST_FY), _fy_start(LATEST_FY) + 12)
    values = {m: _publish(ind.clean[m] * (1 - ind.sign * worse.get(m, 0.0)), ind) for m in months}
    return _fiscal_total(ind, values, LATEST_FY)


def _set_target(rng: random.Random, ind: _Indicator) -> None:
    """A numeric target the clean FY2026 value beats by 3–15 % of it (up: value = T·(1 + margin), down:
    value = T·(1 − margin)), round like the MMR's: 3 significant figures, no finer than the published values.
    Where no such round number exists (small whole-number values), a directional target."""
    if ind.direction == "neutral":
        return
    directional = ind.direction.capitalize()
    if rng.random() >= 0.55:
        ind.target_text = rng.choice(("*", directional, directional))
        return
    value = _fy_value(ind, {})
    low, high = (value / 1.15, value / 1.03) if ind.sign > 0 else (value / 0.97, value / 0.85)
    ideal = rng.uniform(low, high)
    ind.target_text = directional
    if ideal <= 0:
        return
    exponent = max(math.floor(math.log10(ideal)) - 2, -ind.decimals)
    for rounding in (round, math.floor, math.ceil):
        text = _fmt(rounding(ideal / 10**exponent) * 10**exponent, max(0, -exponent))
        if low <= float(text) <= high and float(text) > 0:
            ind.target, ind.target_text = float(text), text
            return


# -- deteriorations -------------------------------------------------------------------------------------------------
def _decision_noise(ind: _Indicator) -> float:
    return max(ind.noise.values())


def _eligible(ind: _Indicator) -> bool:
    return ind.direction != "neutral" and ind.type != "low_count" and 2.5 * _decision_noise(ind) <= MAX_MAGNITUDE


def _improvement(ind: _Indicator, month: int) -> float:
    """How much better the clean level gets from the month before to ``month`` through seasonality and trend."""
    ratio = ind.season[(month - 6) % 12] / ind.season[(month - 7) % 12] * ind.growth ** (1 / 12)
    return max(0.0, (ratio - 1) * ind.sign)


def _plan(rng: random.Random, ind: _Indicator, kind: str) -> dict | None:
    """Parameters of a deterioration of ``kind`` for ``ind`` that respects the ranges and the noise, or None."""
    floor = 2.5 * _decision_noise(ind)
    if kind in ("shift", "drift"):
        low, high = (0.08, 0.25) if kind == "shift" else (0.10, 0.30)
        if max(low, floor) > high:
            return None
        magnitude = rng.uniform(max(low, floor), high)
        if ind.monthly:
            span = rng.randint(3, 12) if kind == "shift" else rng.randint(6, 18)
            start = _LAST - span + 1
            if kind == "shift":
                return {"start": start, "worse": dict.fromkeys(range(start, _LAST + 1), magnitude)}
            return {"start": start, "worse": {start + i: magnitude * (i + 1) / span for i in range(span)}}
        if kind == "shift":
            years = rng.choice((1, 2))
            return {"start": LATEST_FY - years + 1, "worse": {LATEST_FY - i: magnitude for i in range(years)}}
        return {"start": LATEST_FY - 2, "worse": {LATEST_FY - 2 + i: magnitude * (i + 1) / 3 for i in range(3)}}
    if kind == "sustained":
        return _plan_sustained(rng, ind, floor)
    return _plan_target(rng, ind, floor)


def _sustained_worse(step: float, i: int, sign: int) -> float:
    """Worsening after ``i`` steps each ``step`` worse than the one before."""
    return 1 - (1 - step) ** i if sign > 0 else (1 + step) ** i - 1


def _plan_sustained(rng: random.Random, ind: _Indicator, floor: float) -> dict | None:
    if ind.monthly:
        steps = rng.randint(4, 8)
        start = _LAST - steps + 1
        improvement = max(_improvement(ind, m) for m in range(start, _LAST + 1))
        low, high = max(0.02, 1.5 * ind.noise["-M"] + improvement), min(0.05, 0.30 / steps)
    else:
        steps = rng.choice((3, 4))
        start = LATEST_FY - steps + 1
        low, high = max(0.03, 1.5 * ind.noise[""] + max(0.0, (ind.growth - 1) * ind.sign)), 0.08
    if low > high:
        return None
    step = rng.uniform(low, high)
    if _sustained_worse(step, steps, ind.sign) < floor:
        return None
    last = _LAST if ind.monthly else LATEST_FY
    worse = {last - steps + 1 + i: _sustained_worse(step, i + 1, ind.sign) for i in range(steps)}
    return {"start": start, "worse": worse}


def _plan_target(rng: random.Random, ind: _Indicator, floor: float) -> dict | None:
    """A persistent level change sized so that the published FY2026 value misses the target by 8–25 % of it."""
    if ind.target is None:
        return None
    last = _LAST if ind.monthly else LATEST_FY
    for _ in range(20):
        miss = rng.uniform(0.08, 0.25)
        wanted = ind.target * (1 - miss) if ind.sign > 0 else ind.target * (1 + miss)
        if ind.monthly:
            start = _fy_start(LATEST_FY) + rng.randint(-3, 3)  # April – October 2025
            fy = range(_fy_start(LATEST_FY), _fy_start(LATEST_FY) + 12)
            before = sum(ind.clean[m] for m in fy if m < start)
            after = sum(ind.clean[m] for m in fy if m >= start)
            factor = (wanted * (1 if ind.additive else 12) - before) / after
        else:
            start = LATEST_FY - rng.choice((0, 0, 1))
            factor = wanted / ind.clean[LATEST_FY]
        magnitude = (1 - factor) * ind.sign
        worse = dict.fromkeys(range(start, last + 1), magnitude)
        published = (ind.target - _fy_value(ind, worse)) / ind.target * ind.sign  # rounding moves it a little
        if max(0.08, floor) <= magnitude <= 0.30 and 0.08 <= published <= 0.25:
            return {"start": start, "worse": worse}
    return None


def _inject(rng: random.Random, indicators: list[_Indicator]) -> None:
    """Choose about INJECTED_SHARE of the non-neutral indicators and a kind for each, the most constrained kinds
    (sustained, target) first, every kind about equally often."""
    wanted = round(INJECTED_SHARE * sum(ind.direction != "neutral" for ind in indicators))
    quota = {kind: wanted // 4 + (1 if i < wanted % 4 else 0) for i, kind in enumerate(rng.sample(KINDS, 4))}
    pool = [ind for ind in indicators if _eligible(ind)]
    rng.shuffle(pool)
    shortfall = 0
    for kind in ("sustained", "target", "drift", "shift"):
        need = quota[kind] + (shortfall if kind == "shift" else 0)
        for ind in pool:
            if need == 0:
                break
            if ind.kind:
                continue
            plan = _plan(rng, ind, kind)
            if plan is None:
                continue
            ind.kind, ind.start, ind.worse = kind, plan["start"], plan["worse"]
            last = _LAST if ind.monthly else LATEST_FY
            ind.magnitude = ind.worse[last]
            if not ind.monthly:
                ind.worse[LATEST_FY + 1] = ind.magnitude  # FY2027's 4-month value keeps FY2026's worsening
            need -= 1
        if kind in ("sustained", "target", "drift"):
            shortfall += need  # what a constrained kind could not place goes to shifts


def _materialise(ind: _Indicator) -> None:
    """The published values: clean ones made worse where injected, rounded."""

    def worsened(value: float, key: int) -> float:
        return value * (1 - ind.sign * ind.worse.get(key, 0.0))  # up: 1 − w; down: 1 + w

    for key, value in ind.clean.items():
        ind.values[key] = _publish(worsened(value, key), ind)
    for fy, value in ind.clean4.items():
        ind.values4[fy] = _publish(worsened(value, fy), ind)


# -- labels ---------------------------------------------------------------------------------------------------------
def _worsening(ind: _Indicator, months) -> float:
    """How much worse the value a series publishes for ``months`` is than it would have been: the deteriorated
    aggregate (sum or mean, as published) against the clean one."""
    if not ind.monthly:
        return ind.worse.get(months[0], 0.0)
    clean = [ind.clean[m] for m in months]
    worse = [ind.clean[m] * (1 - ind.sign * ind.worse.get(m, 0.0)) for m in months]
    return abs(sum(worse) / sum(clean) - 1) if sum(clean) else 0.0


def _labels(ind: _Indicator) -> list[Label]:
    series: tuple[tuple[str, str, Sequence[int]], ...]
    if ind.monthly:
        series = (
            ("", "annual", range(_fy_start(LATEST_FY), _fy_start(LATEST_FY) + 12)),
            ("-M", "monthly", range(_LAST, _LAST + 1)),
            ("-4M", "four_month", range(_fy_start(LATEST_FY + 1), _LAST + 1)),
        )
    else:
        series = (("", "annual", [LATEST_FY]), ("-4M", "four_month", [LATEST_FY + 1]))
        series = series if ind.four_month else series[:1]
    labels = []
    for suffix, frequency, latest in series:
        if not ind.kind:
            status, start = "clean", None
        else:
            assert ind.start is not None  # set with the kind
            # Dirty when the series' own latest value shows the deterioration: worse by at least half the
            # magnitude and by at least 2.5× its own noise (a fiscal year with one bad month is not a bad year).
            shown = _worsening(ind, list(latest))
            status = "dirty" if shown >= max(ind.magnitude / 2, 2.5 * ind.noise[suffix]) else "excluded"
            start = _date(ind.start) if ind.monthly else dt.date(ind.start - 1, 7, 1)
        labels.append(
            Label(
                series=ind.id + suffix,
                status=status,
                kind=ind.kind,
                start=start,
                magnitude=round(ind.magnitude, 4),
                noise=round(ind.noise[suffix], 4),
                frequency=frequency,
                direction=ind.direction,
            )
        )
    return labels


# -- files ----------------------------------------------------------------------------------------------------------
def _meta(ind: _Indicator) -> list[str]:
    code, agency_name = ind.agency
    description = f"{ind.name}. Synthetic series of the Percolate detection benchmark; not real data."
    return [
        ind.id, "", code, agency_name, ind.service, ind.goal, ind.name, description, "Percolate benchmark generator",
        "No", ind.direction.capitalize(), "Monthly" if ind.monthly else "Annually", "Fiscal Year",
        "Yes" if ind.critical else "No", MEASUREMENT_TYPES[ind.type], "Yes" if ind.additive else "No", "1", "1",
        "No", "", "",
    ]  # fmt: skip


def _rows(ind: _Indicator):
    meta = _meta(ind)
    if ind.monthly:
        for month in _months(ind.first_fy):
            fy = _fy(month)
            ytd = _fiscal_total(ind, ind.values, fy, month - _fy_start(fy) + 1)
            value = _fmt(ind.values[month], ind.decimals)
            yield [
                *meta,
                fy,
                _date(month).isoformat() + "T00:00:00.000",
                value,
                _fmt(ytd, ind.decimals),
                ind.target_text,
            ]
        return
    for fy in range(ind.first_fy, LATEST_FY + 2):
        if ind.four_month:
            value = _fmt(ind.values4[fy], ind.decimals)
            yield [*meta, fy, f"{fy - 1}-10-01T00:00:00.000", value, value, ind.target_text]
        if fy <= LATEST_FY:
            value = _fmt(ind.values[fy], ind.decimals)
            yield [*meta, fy, f"{fy}-06-01T00:00:00.000", value, value, ind.target_text]


def _restate(rng: random.Random, ind: _Indicator) -> list[tuple[str, str, str]]:
    """Rows re-sending a few of the indicator's latest values, each changed by ±0.5–3 % (at most its noise)."""
    return _restate_monthly(rng, ind) if ind.monthly else _restate_annual(rng, ind)


def _restate_annual(rng: random.Random, ind: _Indicator) -> list[tuple[str, str, str]]:
    """The latest fiscal year re-sent, when a change keeps a clean series' margin over its target."""
    new = _changed(rng, ind, ind.values[LATEST_FY], lambda value: _margin_kept(ind, value))
    return [] if new is None else [(ind.id, f"FY{LATEST_FY}", _fmt(new, ind.decimals))]


def _restate_monthly(rng: random.Random, ind: _Indicator) -> list[tuple[str, str, str]]:
    """The last one to three months re-sent to the ``-M`` series, and the ``-4M`` value they change."""
    rows = []
    restated = dict(ind.values)
    for month in range(_LAST - rng.randint(1, 3) + 1, _LAST + 1):
        new = _changed(rng, ind, ind.values[month])
        if new is not None:
            restated[month] = new
            rows.append((ind.id + "-M", _date(month).strftime("%Y-%m"), _fmt(new, ind.decimals)))
    four = _fiscal_total(ind, restated, LATEST_FY + 1, 4)
    if rows and four != _fiscal_total(ind, ind.values, LATEST_FY + 1, 4):
        rows.append((ind.id + "-4M", _date(_fy_start(LATEST_FY + 1)).isoformat(), _fmt(four, ind.decimals)))
    return rows


def _changed(rng: random.Random, ind: _Indicator, old: float, keep=lambda new: True) -> float | None:
    """``old`` changed by ±0.5 % to at most 3 % (or the series' noise) as published; the other sign is tried
    when the first gives the same published value or one ``keep`` refuses. None when neither does."""
    limit = min(0.03, max(0.005, ind.sigma))
    size, sign = rng.uniform(0.005, limit), rng.choice((-1, 1))
    for change in (sign * size, -sign * size):
        new = _publish(old * (1 + change), ind)
        if new != old and old != 0 and keep(new):
            return new
    return None


def _margin_kept(ind: _Indicator, new: float) -> bool:
    """A clean FY2026 value still beats its target by 3–15 %."""
    if ind.target is None or ind.kind:
        return True
    return 0.03 <= (new - ind.target) / ind.target * ind.sign <= 0.15


def _csv(rows) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def generate(*, seed: int = 2026, monthly: int = 480, annual: int = 160) -> SignalSet:
    """The benchmark: ``monthly`` Monthly and ``annual`` Annually indicators, their labels and restatements."""
    rng = random.Random(seed)
    names: set[str] = set()
    indicators = [_make(rng, n, True, names) for n in range(monthly)]
    indicators += [_make(rng, monthly + n, False, names) for n in range(annual)]
    for ind in indicators:
        _simulate_clean(rng, ind)
        _set_target(rng, ind)
    _inject(rng, [ind for ind in indicators if ind.monthly])
    _inject(rng, [ind for ind in indicators if not ind.monthly])
    for ind in indicators:
        _materialise(ind)

    candidates = [ind for ind in indicators if ind.type != "low_count"]
    restated = rng.sample(candidates, min(len(candidates), max(1, round(RESTATED_SHARE * len(indicators)))))
    restated.sort(key=lambda ind: ind.id)
    restatements = [("indicator", "period", "value")]
    for ind in restated:
        restatements += _restate(rng, ind)

    main = [HEADER, *(row for ind in indicators for row in _rows(ind))]
    labels = {label.series: label for ind in indicators for label in _labels(ind)}
    return SignalSet(
        main=_csv(main), restatements=_csv(restatements), labels=labels, as_of=AS_OF, last_month=LAST_MONTH
    )


if __name__ == "__main__":
    signals = generate()
    counts: dict[tuple[str, str, str], int] = {}
    for label in signals.labels.values():
        key = (label.frequency, label.status, label.kind or "-")
        counts[key] = counts.get(key, 0) + 1
    for (frequency, status, kind), count in sorted(counts.items()):
        print(f"{frequency:<11} {status:<9} {kind:<10} {count:>5}")
    rows = signals.restatements.decode().count("\n") - 1
    print(f"main: {len(signals.main):,} bytes; restatements: {rows} rows")
