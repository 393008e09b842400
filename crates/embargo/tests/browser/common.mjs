// What every browser flow shares: Debian's Chromium launched for playwright-core, each
// page checked by html-validate and axe-core and screenshotted at 1280 and 360 px (no
// page wider than the phone), CSP violations and script errors caught, TOTP codes, and
// the mails the SMTP sink holds. A flow calls start(), drives its pages, then finish().

import { createHmac } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";
import { HtmlValidate } from "html-validate";

const require = createRequire(import.meta.url);
const axePath = require.resolve("axe-core/axe.min.js");

/** An environment variable the Rust test sets. */
export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

/** RFC 6238 with SHA-1, six digits, 30-second steps. */
export function totp(secretBase32, at) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secretBase32.replace(/=+$/, "").toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return code.toString().padStart(6, "0");
}

/** Launches the browser; returns the flow's tools. */
export async function start(base, shots) {
  mkdirSync(shots, { recursive: true });
  const validator = new HtmlValidate({
    extends: ["html-validate:recommended"],
    rules: {
      // A page's title is the case's reference and title, which may be long.
      "long-title": "off",
    },
  });

  const failures = [];
  const checked = new Set();
  function fail(message) {
    failures.push(message);
    console.error("FAIL: " + message);
  }
  function expect(condition, message) {
    if (!condition) fail(message);
  }

  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });

  // Pages are checked in a context of their own that may inject axe despite the CSP;
  // the flow itself runs under the real policy.
  const axeContext = await browser.newContext({ bypassCSP: true });

  async function check(name, page, response) {
    const html = response ? await response.text() : await page.content();
    const report = await validator.validateString(html, `${name}.html`);
    if (!report.valid) {
      for (const r of report.results) {
        for (const m of r.messages) {
          fail(`${name}: html-validate ${m.ruleId} at ${m.line}:${m.column}: ${m.message}`);
        }
      }
    }
    const url = page.url();
    if (!checked.has(name)) {
      checked.add(name);
      const probe = await axeContext.newPage();
      // The same cookies, so the page looks as it did to the person.
      await axeContext.clearCookies();
      await axeContext.addCookies(await page.context().cookies());
      // Exactly the HTML the person got (a page answering a form post too), with the
      // site's own stylesheet.
      await probe.route(url, (route) => route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: html }));
      await probe.goto(url);
      await probe.addScriptTag({ path: axePath });
      const result = await probe.evaluate(async () => {
        // eslint-disable-next-line no-undef
        return await axe.run(document, { resultTypes: ["violations"] });
      });
      for (const v of result.violations) {
        if (v.impact === "serious" || v.impact === "critical") {
          fail(`${name}: axe ${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
        }
      }
      for (const [label, width, height] of [["desktop", 1280, 900], ["phone", 360, 740]]) {
        await probe.setViewportSize({ width, height });
        await probe.screenshot({ path: `${shots}/${name}-${label}.png`, fullPage: true });
        if (label === "phone") {
          const overflow = await probe.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          expect(overflow <= 1, `${name}: ${overflow}px wider than a 360 px screen`);
        }
      }
      await probe.close();
    }
  }

  const cspViolations = [];
  function watch(page, who) {
    page.on("console", (m) => {
      if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) {
        cspViolations.push(`${who}: ${m.text()}`);
      }
    });
    page.on("pageerror", (e) => fail(`${who}: script error ${e.message}`));
  }

  // The first mail the SMTP sink holds for `address` whose text matches `pattern`; its
  // first group. Quoted-printable soft breaks and =3D are undone, as a mail reader would.
  async function mailTo(address, pattern, seconds = 30) {
    const dir = env("SINK_DIR");
    for (let i = 0; i < seconds * 5; i++) {
      for (const name of readdirSync(dir).filter((n) => n.endsWith(".eml")).sort()) {
        const raw = readFileSync(`${dir}/${name}`, "utf8");
        if (!raw.startsWith(`X-Envelope-To: ${address}\r\n`)) continue;
        const text = raw.replace(/=\r?\n/g, "").replace(/=3D/g, "=");
        const m = text.match(pattern);
        if (m) return m[1];
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    fail(`no mail to ${address} matching ${pattern}`);
    return "/";
  }

  async function go(page, path) {
    const response = await page.goto(base + path);
    return response;
  }

  async function submitAndWait(page, locator) {
    const [response] = await Promise.all([
      page.waitForNavigation(),
      locator.click(),
    ]);
    return response;
  }


  /** A new browser context signed in as `email`; its page, at the page signing in led to. */
  async function signIn(who, email, password, code) {
    const context = await browser.newContext();
    const page = await context.newPage();
    watch(page, who);
    await go(page, "/sign-in");
    await page.getByLabel("Email address").fill(email);
    await page.getByLabel("Password").fill(password);
    if (code) await page.getByLabel(/Code from your authenticator/).fill(code);
    await submitAndWait(page, page.getByRole("button", { name: "Sign in" }));
    return page;
  }

  /** Closes the browser, writes result.json and exits 1 on any failure. */
  async function finish(extra) {
    await browser.close();
    for (const v of cspViolations) fail(`CSP violation: ${v}`);
    writeFileSync(`${shots}/result.json`, JSON.stringify({ failures, pages: [...checked], ...extra }, null, 2));
    if (failures.length) {
      console.error(`${failures.length} failure(s)`);
      process.exit(1);
    }
    console.log(`all checks passed on ${checked.size} pages`);
  }

  return { browser, fail, expect, check, watch, mailTo, go, submitAndWait, signIn, finish };
}
