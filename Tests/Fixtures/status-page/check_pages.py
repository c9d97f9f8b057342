#!/usr/bin/env python3
"""Loads the monitor's status pages in headless Chromium (selenium + chromedriver) and checks them against
what the store holds (the expectations file the Swift test writes from the store).

Checks: the uptime figures, the 90-day bar (worst state and minutes down per day, an aria label on every cell)
and the incident list on /status; the incident timelines (kinds in order, audit ids, reasons) on
/status/operator; that neither page made a request outside the monitor (performance entries and the
DevTools network log); that the console has no error. Saves desktop and 375-px-wide screenshots.

Usage: check_pages.py --base http://127.0.0.1:PORT --expected expected.json --out DIR
Prints one line per check; exit status 0 when all pass, 1 otherwise (each failure printed), 2 on setup errors.
"""
import argparse
import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-extensions", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,2400"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(options=options, service=service)


def outside_requests(driver, base):
    """URLs the page asked for that are not the monitor's (performance entries + DevTools network log)."""
    urls = driver.execute_script(
        "return performance.getEntries().map(e => e.name).filter(n => n.includes(':'))")
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return sorted({u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:"))
                   and not u.startswith(base + "/")})


def console_errors(driver):
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def percent(value):
    return "–" if value is None else "%.2f %%" % (value * 100)


def check_status(driver, base, expected, out):
    driver.get(base + "/status")
    check(driver.title == expected["title"], "title is %r (got %r)" % (expected["title"], driver.title))
    for prop in expected["properties"]:
        name = prop["name"]
        row = driver.find_element(By.CSS_SELECTOR, 'tr[data-property="%s"]' % name)
        check(row.get_attribute("data-state") == (prop["state"] or "none"),
              "%s: state %s" % (name, prop["state"]))
        for key, value in prop["uptime"].items():
            shown = row.find_element(By.CSS_SELECTOR, 'td[data-uptime="%s"]' % key).text.strip()
            if value is None:
                check(shown == "–", "%s: uptime %s shows no data (got %r)" % (name, key, shown))
            else:
                number = float(shown.replace("%", "").replace("\u00a0", "").strip())
                # The page is read a moment after the store: live probes may move the last digit.
                check(abs(number - value * 100) <= 0.02,
                      "%s: uptime %s is %s (store %.4f %%)" % (name, key, shown, value * 100))
        cells = driver.find_elements(By.CSS_SELECTOR, 'ol.bar[data-property="%s"] li' % name)
        check(len(cells) == 90, "%s: 90 cells in the bar (got %d)" % (name, len(cells)))
        shown = [{"date": c.get_attribute("data-date"), "worst": c.get_attribute("data-worst"),
                  "downtime_minutes": int(c.get_attribute("data-downtime-minutes"))} for c in cells]
        want = [{"date": d["date"], "worst": d["worst"] or "none", "downtime_minutes": d["downtime_minutes"]}
                for d in prop["days"]]
        mismatched = [(s, w) for s, w in zip(shown, want) if s != w]
        check(not mismatched, "%s: every day's worst state and downtime match the store%s"
              % (name, "" if not mismatched else ": first mismatch page %r store %r" % mismatched[0]))
        labels = [c.get_attribute("aria-label") or "" for c in cells]
        check(all(l.startswith(d["date"]) for l, d in zip(labels, want)), "%s: every cell has an aria label" % name)
        down_days = [d for d in want if d["worst"] == "down"]
        check(len(down_days) > 0, "%s: the bar shows at least one day down (%d)" % (name, len(down_days)))
    rows = driver.find_elements(By.CSS_SELECTOR, "tr[data-incident]")
    shown = [(r.get_attribute("data-incident"), int(r.find_element(By.CSS_SELECTOR, "td[data-duration-seconds]")
                                                     .get_attribute("data-duration-seconds"))) for r in rows]
    want = [(str(i["id"]), round(i["duration_seconds"])) for i in expected["incidents"]]
    check(shown == want, "incidents and durations match the store: %r" % (shown,))
    worst = [(r.get_attribute("data-worst"), r.text) for r in rows]
    words = {"down": "Down", "degraded": "Degraded", "healthy": "Resolved"}
    check([w for w, _ in worst] == [i["worst"] for i in expected["incidents"]]
          and all((words[w] in text and "Resolved" in text) if i.get("closed_at") else "Resolved" not in text
                  for (w, text), i in zip(worst, expected["incidents"])),
          "each incident shows the worst state it reached, and Resolved once closed: %r" % (worst,))
    check(len(driver.find_elements(By.CSS_SELECTOR, "main, header, footer")) == 3, "landmarks: header, main, footer")
    check(len(driver.find_elements(By.CSS_SELECTOR, "th[scope=col]")) >= 6, "tables have column headers")
    save(driver, out, "status")


def check_operator(driver, base, expected, out):
    driver.get(base + "/status/operator")
    for timeline in expected["timelines"]:
        incident = timeline["incident"]["id"]
        items = driver.find_elements(By.CSS_SELECTOR, 'article[data-incident="%s"] li[data-kind]' % incident)
        kinds = [i.get_attribute("data-kind") for i in items]
        want = [e["kind"] for e in timeline["entries"]]
        check(kinds == want, "incident %s: timeline %s" % (incident, " → ".join(kinds)))
        audits = [d.text for d in driver.find_elements(
            By.CSS_SELECTOR, 'article[data-incident="%s"] dd[data-fact="audit id"]' % incident)]
        want_audits = [e["audit_id"] for e in timeline["entries"] if e.get("audit_id")]
        check(audits == want_audits and len(audits) > 0,
              "incident %s: audit ids %r" % (incident, audits))
        reasons = [d.text for d in driver.find_elements(
            By.CSS_SELECTOR, 'article[data-incident="%s"] dd[data-fact="reason"]' % incident)]
        check(reasons == [e["reason"] for e in timeline["entries"] if e.get("reason")],
              "incident %s: every reason shown (%d)" % (incident, len(reasons)))
    save(driver, out, "operator")


def save(driver, out, name):
    """Screenshots of the whole page, 1280 px and 375 px wide."""
    for width, suffix in ((1280, "desktop"), (375, "375px")):
        driver.set_window_size(width, 800)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(height + 140, 8000))
        if width == 375:
            scroll = driver.execute_script("return document.documentElement.scrollWidth")
            check(scroll <= 375, "%s: no horizontal scrolling at 375 px (page width %s)" % (name, scroll))
            if name == "status":
                clipped = driver.execute_script(
                    "return [...document.querySelectorAll('.scroll')].filter(e => e.scrollWidth > e.clientWidth + 1).length")
                check(clipped == 0, "status: every table fits at 375 px (%d scroll)" % clipped)
        driver.save_screenshot(os.path.join(out, "%s-%s.png" % (name, suffix)))
    driver.set_window_size(1280, 2400)


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
        driver = browser()
    except Exception as error:  # noqa: BLE001 - any setup failure is reported the same way
        print("cannot start chromium through chromedriver: %s" % error)
        return 2
    try:
        check_status(driver, args.base, expected, args.out)
        check(outside_requests(driver, args.base) == [], "status: no request outside the monitor")
        check(console_errors(driver) == [], "status: no console error")
        check_operator(driver, args.base, expected, args.out)
        outside = outside_requests(driver, args.base)
        check(outside == [], "operator: no request outside the monitor %r" % outside)
        errors = console_errors(driver)
        check(errors == [], "operator: no console error %r" % errors)
    finally:
        driver.quit()
    print("screenshots: %s" % args.out)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
