#!/usr/bin/env python3
"""Loads the monitor's public status page in headless Chromium and checks its per-location rendering against
the expectations file the Swift test writes: for each property, the summary line ("Down in 1 of 3 locations")
and one entry per location whose state is shown as symbol and word (never colour alone); no request outside
the monitor, no console error, no horizontal scrolling at 375 px; on the operator view, the latency table by
location. Saves screenshots.

Usage: check_locations.py --base http://127.0.0.1:PORT --expected expected.json --out DIR
Exit status 0 when all pass, 1 otherwise (each failure printed), 2 on setup errors.
"""
import argparse
import json
import os
import sys

from selenium.webdriver.common.by import By

import check_pages
from check_pages import check

WORDS = {"healthy": ("\u2714", "Operational"), "degraded": ("\u25b2", "Degraded"), "down": ("\u2716", "Down")}


def check_locations(driver, base, expected, out):
    driver.get(base + "/status")
    for name, prop in expected.items():
        row = driver.find_element(By.CSS_SELECTOR, 'tr[data-property="%s"]' % name)
        line = row.find_element(By.CSS_SELECTOR, "[data-locations-summary]").text.strip()
        check(line == prop["line"], "%s: %r (got %r)" % (name, prop["line"], line))
        items = row.find_elements(By.CSS_SELECTOR, "ul.locations li")
        shown = [(li.get_attribute("data-location"), li.get_attribute("data-state")) for li in items]
        wanted = [(view["location"], view["state"]) for view in prop["locations"]]
        check(shown == wanted, "%s: locations %r (got %r)" % (name, wanted, shown))
        for li in items:
            symbol, word = WORDS[li.get_attribute("data-state")]
            text = li.text
            check(symbol in text and word in text and li.get_attribute("data-location") in text,
                  "%s: %s shows its name, %s and %r (got %r)" % (name, li.get_attribute("data-location"), symbol,
                                                              word, text))
    check_pages.save(driver, out, "locations")
    driver.get(base + "/status/operator")
    for name, prop in expected.items():
        rows = driver.find_elements(
            By.CSS_SELECTOR, 'article[data-property="%s"] table[data-latency-locations] tr[data-location]' % name)
        shown = {row.get_attribute("data-location") for row in rows}
        wanted = set(prop["latency_locations"])
        check(wanted <= shown, "%s: operator latency by location shows %r (got %r)" % (name, sorted(wanted),
                                                                                     sorted(shown)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--expected", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.expected) as f:
        expected = json.load(f)
    os.makedirs(args.out, exist_ok=True)
    try:
        driver = check_pages.browser()
    except Exception as error:  # noqa: BLE001 - any setup failure is reported the same way
        print("cannot start chromium through chromedriver: %s" % error)
        return 2
    try:
        check_locations(driver, args.base, expected, args.out)
        outside = check_pages.outside_requests(driver, args.base)
        check(outside == [], "locations: no request outside the monitor %r" % outside)
        errors = check_pages.console_errors(driver)
        check(errors == [], "locations: no console error %r" % errors)
    finally:
        driver.quit()
    print("screenshots: %s" % args.out)
    if check_pages.failures:
        print("%d check(s) failed" % len(check_pages.failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
