"""Build data/gazetteer.csv, the offline geocoder's places, from licence-clear sources:

- the Hangzhou districts of the demo city (names in Chinese and English, the district
  government's coordinates, as in matcher/demo/city.py);
- NYC Open Data "NYC Service volunteer opportunities" (bquu-z2ht): each opportunity's street
  address with its coordinates, ZIP code centroids and borough centroids averaged from them.

Run from the repository root with ../shared/datasets present: python scripts/build_gazetteer.py
"""

from __future__ import annotations

import ast
import csv
import json
from collections import defaultdict
from pathlib import Path

from matcher.demo.city import DISTRICTS

NYC = Path("../shared/datasets/nyc_service/nyc-service-volunteer-opportunities.csv")
OUT = Path("data/gazetteer.csv")


def main() -> None:
    rows: list[dict[str, str]] = []
    for zh, en, lat, lon, *_ in DISTRICTS:
        short = zh.rstrip("区县市") if len(zh) > 2 else zh
        names = [zh, f"杭州市{zh}", f"杭州{zh}", short, en, f"{en} District", f"{en}, Hangzhou"]
        rows.append(_row(zh, names, lat, lon, "district", "volmatch demo city (district government seats)"))
    rows.append(_row("杭州市", ["杭州", "Hangzhou"], 30.2741, 120.1551, "city", "volmatch demo city"))

    zips: dict[str, list[tuple[float, float]]] = defaultdict(list)
    boroughs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    seen: set[str] = set()
    with NYC.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            loc = r.get("locality") or ""
            if not loc.startswith("{"):
                continue
            place = ast.literal_eval(loc)
            try:
                lat, lon = float(place["latitude"]), float(place["longitude"])
                human = json.loads(place.get("human_address") or "{}")
            except (KeyError, ValueError):
                continue
            street, city, zipcode = human.get("address", ""), human.get("city", ""), human.get("zip", "")
            if street and city:
                name = f"{street}, {city}, NY {zipcode}".strip()
                if name not in seen:
                    seen.add(name)
                    rows.append(
                        _row(
                            name, [name, f"{street}, {city}"], lat, lon, "address", "NYC Open Data bquu-z2ht"
                        )
                    )
            if zipcode:
                zips[zipcode].append((lat, lon))
            if r.get("Borough"):
                boroughs[r["Borough"].strip()].append((lat, lon))
    for code, points in sorted(zips.items()):
        lat, lon = _mean(points)
        rows.append(
            _row(
                f"NY {code}",
                [code, f"NY {code}", f"New York {code}"],
                lat,
                lon,
                "postcode",
                "NYC Open Data bquu-z2ht (centroid)",
            )
        )
    for borough, points in sorted(boroughs.items()):
        lat, lon = _mean(points)
        rows.append(
            _row(
                borough.title(),
                [borough, f"{borough}, New York"],
                lat,
                lon,
                "borough",
                "NYC Open Data bquu-z2ht (centroid)",
            )
        )
    with OUT.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["name", "aliases", "lat", "lon", "kind", "source"])
        w.writeheader()
        w.writerows(rows)
    print(f"{OUT}: {len(rows)} places")


def _row(name: str, aliases: list[str], lat: float, lon: float, kind: str, source: str) -> dict[str, str]:
    unique = list(dict.fromkeys(a for a in aliases if a))
    return {
        "name": name,
        "aliases": "|".join(unique),
        "lat": f"{lat:.6f}",
        "lon": f"{lon:.6f}",
        "kind": kind,
        "source": source,
    }


def _mean(points: list[tuple[float, float]]) -> tuple[float, float]:
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


if __name__ == "__main__":
    main()
