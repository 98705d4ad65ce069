#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# A person's browser on vdesk's staff portal, for tests/portal/portal.sh:
# headless Chromium driven by Selenium (Debian's chromium, chromium-driver
# and python3-selenium), started once so that its cookies live through the
# whole scenario as a real browser's do.
#
#   browser.py URL OUTDIR DOWNLOADDIR
#
# It reads one command a line on stdin (words quoted as the shell's
# printf %q quotes them) and answers each with one line on stdout:
# "ok" or "ok VALUE", or "fail: WHY" when the command could not be done.
# The shell judges the values; this program judges only that a command
# did what it says (a form was there, a page came, a file arrived). Every
# page a command leads to is saved as OUTDIR/NN-NAME.png.
#
# Commands (CSS is a CSS selector):
#   go PATH NAME                 open URL+PATH; answers the path shown then
#   submit FORM NAME [F=V...]    fill the fields of form#FORM and send it;
#                                answers the path shown then
#   click CSS NAME [confirm]     click and wait for the next page (accepting
#                                the confirmation dialog); answers the path
#   set CSS VALUE                set an input's value as a person with the
#                                browser's developer tools can
#   wait CSS ATTR VALUE SEC NAME wait until the element's ATTR is VALUE
#                                (the page may reload meanwhile)
#   attr CSS ATTR | text CSS | count CSS | has TEXT | path | source FILE
#   status                       the HTTP status of the page shown
#   download CSS NAME            click a link and wait for the file it
#                                downloads; answers its path
#   back NAME                    the Back button
#   cookie NAME                  a cookie's value (HttpOnly ones too)
#   headers                      checks what every page the browser got
#                                carried (see check_headers); answers how
#                                many pages it checked and the names of the
#                                cookies it was given
#   shot NAME | quit
import json
import os
import shlex
import shutil
import sys
import tempfile
import time
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

PAGE_SEC = 60

base, outdir, downloads = sys.argv[1].rstrip('/'), sys.argv[2], sys.argv[3]
os.makedirs(outdir, exist_ok=True)
os.makedirs(downloads, exist_ok=True)
profile = tempfile.mkdtemp(prefix='vdesk-chromium.')

options = webdriver.ChromeOptions()
options.binary_location = '/usr/lib/chromium/chromium'
for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync',
          '--disable-dev-shm-usage', '--window-size=1024,768', '--lang=en-US',
          f'--user-data-dir={profile}',
          # the test's self-signed certificate; portal.sh checks with curl
          # --cacert that the portal serves the configured one
          '--ignore-certificate-errors'):
    options.add_argument(a)
options.add_experimental_option('prefs', {'download.default_directory': downloads,
                                          'download.prompt_for_download': False,
                                          'intl.accept_languages': 'en-US,en'})
options.set_capability('goog:loggingPrefs', {'performance': 'ALL'})
driver = webdriver.Chrome(service=Service(executable_path='/usr/bin/chromedriver'), options=options)
driver.set_page_load_timeout(PAGE_SEC)
driver.execute_cdp_cmd('Browser.setDownloadBehavior', {'behavior': 'allow', 'downloadPath': downloads,
                                                       'eventsEnabled': True})

shots = 0
pages = 0
responses = {}          # requestId -> {'url', 'status', 'type', 'headers', 'raw'}
documents = []          # requestIds of pages, in order
cookies = []            # every Set-Cookie header line the browser got


def drain_log():
    for entry in driver.get_log('performance'):
        m = json.loads(entry['message'])['message']
        p = m.get('params', {})
        if m['method'] == 'Network.responseReceived':
            r = responses.setdefault(p['requestId'], {})
            r.update(url=p['response']['url'], status=p['response']['status'], type=p['type'],
                     headers={k.lower(): v for k, v in p['response']['headers'].items()})
            if p['type'] == 'Document':
                documents.append(p['requestId'])
        elif m['method'] == 'Network.responseReceivedExtraInfo':
            # the raw headers, of redirects too: Set-Cookie is only here
            raw = {k.lower(): v for k, v in p['headers'].items()}
            cookies.extend(filter(None, raw.get('set-cookie', '').split('\n')))


def shot(name):
    global shots
    shots += 1
    driver.save_screenshot(os.path.join(outdir, f'{shots:02d}-{name}.png'))


def path():
    u = urllib.parse.urlsplit(driver.current_url)
    return u.path + ('?' + u.query if u.query else '')


def mark_page():
    """Marks the page shown, so that wait_new_page() can tell when another
    one (a new document: a new window object) has come."""
    global pages
    pages += 1
    driver.execute_script('window.vdeskTestPage = arguments[0];', pages)
    return pages


def wait_new_page(mark):
    WebDriverWait(driver, PAGE_SEC).until(
        lambda d: d.execute_script('return window.vdeskTestPage !== arguments[0] && '
                                   'document.readyState === "complete";', mark))


def one(css):
    return driver.find_element(By.CSS_SELECTOR, css)


def check_headers():
    """What every page from the portal carries: a CSP without inline
    script or style, no framing, no referrer, not stored; every cookie
    HttpOnly, Secure, SameSite=Strict. Returns the problems."""
    problems = []
    for rid in documents:
        r = responses[rid]
        if not r.get('url', '').startswith(base):
            continue
        h = r['headers']
        csp = h.get('content-security-policy', '')
        where = f"{r['url']} ({r['status']})"
        if 'default-src' not in csp or 'unsafe-inline' in csp or 'unsafe-eval' in csp:
            problems.append(f'{where}: Content-Security-Policy {csp!r}')
        if "frame-ancestors 'none'" not in csp:
            problems.append(f'{where}: no frame-ancestors in the CSP')
        if h.get('x-frame-options') != 'DENY':
            problems.append(f"{where}: X-Frame-Options {h.get('x-frame-options')!r}")
        if h.get('referrer-policy') != 'no-referrer':
            problems.append(f"{where}: Referrer-Policy {h.get('referrer-policy')!r}")
        if h.get('cache-control') != 'no-store':
            problems.append(f"{where}: Cache-Control {h.get('cache-control')!r}")
    for c in cookies:
        flags = [f.strip().lower() for f in c.split(';')[1:]]
        if not {'httponly', 'secure', 'samesite=strict'} <= set(flags):
            problems.append(f'Set-Cookie {c.split("=")[0]} with {flags}')
    return problems


def do(cmd, args):
    if cmd == 'go':
        driver.get(base + args[0])
        shot(args[1])
        return path()
    if cmd == 'submit':
        form = one(f'form#{args[0]}')
        for fv in args[2:]:
            k, v = fv.split('=', 1)
            e = form.find_element(By.NAME, k)
            e.clear()
            e.send_keys(v)
        mark = mark_page()
        form.find_element(By.CSS_SELECTOR, 'button[type=submit]').click()
        wait_new_page(mark)
        shot(args[1])
        return path()
    if cmd == 'click':
        mark = mark_page()
        one(args[0]).click()
        if len(args) > 2 and args[2] == 'confirm':
            WebDriverWait(driver, 10).until(lambda d: alert_present())
            driver.switch_to.alert.accept()
        wait_new_page(mark)
        shot(args[1])
        return path()
    if cmd == 'set':
        driver.execute_script('arguments[0].value = arguments[1];', one(args[0]), args[1])
        return ''
    if cmd == 'wait':
        css, attr, want, sec, name = args[0], args[1], args[2], float(args[3]), args[4]
        end, got = time.monotonic() + sec, None
        while time.monotonic() < end:
            try:
                got = one(css).get_attribute(attr)
            except WebDriverException:
                got = None          # between the page and its reload
            if got == want:
                # the page the reload brought is whole before the picture
                WebDriverWait(driver, PAGE_SEC).until(
                    lambda d: d.execute_script('return document.readyState') == 'complete')
                shot(name)
                return got
            time.sleep(0.2)
        shot(name)
        raise Failure(f'{css} {attr} is {got!r} after {sec:g} s, not {want!r}')
    if cmd == 'attr':
        return one(args[0]).get_attribute(args[1]) or ''
    if cmd == 'text':
        return one(args[0]).text
    if cmd == 'count':
        return str(len(driver.find_elements(By.CSS_SELECTOR, args[0])))
    if cmd == 'has':
        return 'yes' if args[0] in driver.page_source else 'no'
    if cmd == 'path':
        return path()
    if cmd == 'source':
        with open(args[0], 'w') as f:
            f.write(driver.page_source)
        return ''
    if cmd == 'status':
        drain_log()
        here = driver.current_url
        for rid in reversed(documents):
            if responses[rid]['url'] == here:
                return str(responses[rid]['status'])
        raise Failure(f'no response seen for {here}')
    if cmd == 'download':
        before = set(os.listdir(downloads))
        one(args[0]).click()
        end = time.monotonic() + PAGE_SEC
        while time.monotonic() < end:
            new = [f for f in set(os.listdir(downloads)) - before if not f.endswith('.crdownload')]
            if new:
                shot(args[1])
                return os.path.join(downloads, new[0])
            time.sleep(0.2)
        raise Failure(f'nothing was downloaded in {PAGE_SEC} s')
    if cmd == 'back':
        mark = mark_page()
        driver.back()
        wait_new_page(mark)
        shot(args[0])
        return path()
    if cmd == 'cookie':
        c = driver.get_cookie(args[0])
        return c['value'] if c else ''
    if cmd == 'headers':
        drain_log()
        problems = check_headers()
        if problems:
            raise Failure('; '.join(problems))
        n_pages = sum(1 for rid in documents if responses[rid].get('url', '').startswith(base))
        names = sorted({c.split('=')[0] for c in cookies})
        return f'{n_pages} {",".join(names)}'
    if cmd == 'shot':
        shot(args[0])
        return ''
    raise Failure(f'unknown command {cmd}')


def alert_present():
    try:
        driver.switch_to.alert
        return True
    except NoAlertPresentException:
        return False


class Failure(Exception):
    pass


try:
    for line in sys.stdin:
        words = shlex.split(line)
        if not words:
            continue
        if words[0] == 'quit':
            break
        try:
            value = do(words[0], words[1:])
            drain_log()
            print(f'ok {value}'.rstrip(), flush=True)
        except (Failure, WebDriverException, IndexError, ValueError) as e:
            msg = getattr(e, 'msg', None) or str(e) or type(e).__name__
            print('fail: ' + ' '.join(msg.split()), flush=True)
finally:
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)
