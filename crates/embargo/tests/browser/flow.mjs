// The web UI end to end, in Debian's Chromium: a reporter files a report; a team member
// signs in with TOTP, triages, scores with the calculator, sets the embargo date, drafts
// the advisory, previews and schedules the announcement; the reporter replies and
// uploads on their page; a member of another project gets 404; after the embargo the
// public page shows the advisory and the team does the rest from the case page. Every
// page is checked by html-validate and axe-core, and screenshotted at desktop and phone
// widths. The collaborator, the newcomer, the reporter told of a moved date, the CVE
// record's publication and the report form filing once have flows of their own.
//
// The Rust test browser::web_ui_end_to_end_* starts the server and passes, in the
// environment: EMBARGO_URL, ALICE_EMAIL, ALICE_PASSWORD, ALICE_TOTP (base32),
// ALICE_TOKEN, OLGA_EMAIL, OLGA_PASSWORD, SHOTS (a folder under target/) and SINK_DIR
// (the SMTP sink's folder).

import { env, start, totp } from "./common.mjs";

const base = env("EMBARGO_URL");
const shots = env("SHOTS");
const { browser, fail, expect, check, watch, go, submitAndWait, finish } = await start(base, shots);
let metrics = null;

try {
  // 1. A reporter files the public form.
  const reporterContext = await browser.newContext();
  const reporter = await reporterContext.newPage();
  watch(reporter, "reporter");
  let response = await go(reporter, "/projects/CLOUDSTACK/report");
  expect(response.status() === 200, `report form answered ${response.status()}`);
  const csp = response.headers()["content-security-policy"] || "";
  expect(csp.includes("script-src 'self'") && csp.includes("frame-ancestors 'none'"), `CSP is "${csp}"`);
  expect(response.headers()["referrer-policy"] === "no-referrer", "Referrer-Policy is no-referrer");
  await check("report-form", reporter, response);
  await reporter.getByLabel("Short title").fill("Stored XSS in the instance console");
  await reporter.getByLabel("The vulnerability").fill("The console shows an instance's name without escaping it.\n\nName an instance <img src=x onerror=alert(1)> and open the console.");
  await reporter.getByLabel("Your email address").fill("fay@finder.example");
  await reporter.getByLabel("Your name, for credit").fill("Fay Finder");
  response = await submitAndWait(reporter, reporter.getByRole("button", { name: "Send the report" }));
  expect(response.status() === 201, `filing answered ${response.status()}`);
  await check("report-received", reporter, response);
  const ref = (await reporter.locator("#reference").textContent()).trim();
  const secretPath = await reporter.locator("#secret-link").getAttribute("href");
  expect(/^CLOUDSTACK-SEC-\d+$/.test(ref), `reference ${ref}`);
  console.log(`filed ${ref}`);
  // Reloading the answer sends the form again: it files nothing twice (the queue below
  // lists the report once).
  response = await reporter.reload();
  expect(response.status() !== 201, `a reload of the filed form answered ${response.status()}`);
  await check("report-reloaded", reporter, response);

  // 2. The team member signs in with TOTP.
  const aliceContext = await browser.newContext();
  const alice = await aliceContext.newPage();
  watch(alice, "alice");
  response = await go(alice, "/desk");
  expect(alice.url().includes("/sign-in"), "the queue sends strangers to sign in");
  await check("sign-in", alice, response);
  await alice.getByLabel("Email address").fill(env("ALICE_EMAIL"));
  await alice.getByLabel("Password").fill(env("ALICE_PASSWORD"));
  await alice.getByRole("button", { name: "Sign in" }).click();
  await alice.waitForLoadState();
  expect((await alice.locator(".notice.error").textContent()).includes("code"), "a password alone is not enough once TOTP is on");
  await alice.getByLabel("Password").fill(env("ALICE_PASSWORD"));
  // The code of the next step: the one used to confirm enrolment may not be replayed.
  await alice.getByLabel(/Code from your authenticator/).fill(totp(env("ALICE_TOTP"), Date.now() / 1000 + 30));
  response = await submitAndWait(alice, alice.getByRole("button", { name: "Sign in" }));
  expect(alice.url().endsWith("/desk"), `signed in, at ${alice.url()}`);
  await check("queue", alice, response);
  expect(await alice.getByRole("link", { name: ref }).count() === 1, "the queue lists the report");
  expect(await alice.locator("td", { hasText: "Stored XSS in the instance console" }).count() === 1, "the report is in the queue once");
  const cookies = await aliceContext.cookies();
  const session = cookies.find((c) => c.name === "embargo_session");
  expect(session && session.httpOnly && session.sameSite === "Strict", "the session cookie is HttpOnly and SameSite=Strict");

  // Triage.
  response = await submitAndWait(alice, alice.getByRole("link", { name: ref }));
  await check("case-reported", alice, response);
  async function move(to, reason) {
    const form = alice.locator(`form.transition:has(input[name=to][value="${to}"])`);
    if (reason) await form.getByLabel("Why").fill(reason);
    const r = await submitAndWait(alice, form.getByRole("button", { name: `Move to ${to}` }));
    return r;
  }
  await move("triage", "Reproducing on 4.19");
  expect((await alice.locator("p.summary .badge").textContent()).trim() === "triage", "the case is in triage");
  // Alice gives her view; the case shows it, and that the views agree.
  await alice.getByLabel("Your view").selectOption("valid");
  await alice.locator("#view-reason").fill("Reproduced on 4.19 with a plain account");
  response = await submitAndWait(alice, alice.getByRole("button", { name: "Give your view" }));
  expect((await alice.locator("#views").textContent()).includes("Reproduced on 4.19 with a plain account"), "the view is shown");
  expect((await alice.locator("#agreement").textContent()).includes("All views agree"), "one view agrees with itself");
  await check("case-views", alice, response);
  await move("confirmed", "Reproduced");

  await move("fixing", "Patch under way");
  // The fix per branch: fix-ready names every branch still open.
  response = await move("fix-ready", "Tested");
  expect(response.status() === 409 || response.status() === 422, `fix-ready before the fix answered ${response.status()}`);
  const notFixed = (await alice.locator(".notice.error").textContent()).trim();
  expect(notFixed.includes("still open: trunk, 4.18, 4.19") && notFixed.includes("testing evidence"), `fix-ready says what is open: "${notFixed}"`);
  const openFixForms = () => alice.locator("details.fix-forms").evaluate((d) => { d.open = true; });
  await openFixForms();
  // A patch pasted from git format-patch: trunk's fix is proposed, and the patch shows as a diff.
  const patch = [
    "From 5f0c1e2d3b4a59687766554433221100ffeeddcc Mon Sep 17 00:00:00 2001",
    "From: Dev <dev@example.org>",
    "Date: Tue, 1 Dec 2026 10:00:00 +0000",
    "Subject: [PATCH] Check the account's role before the console renders",
    "",
    "---",
    " console.js | 2 +-",
    "",
    "diff --git a/console.js b/console.js",
    "--- a/console.js",
    "+++ b/console.js",
    "@@ -1,3 +1,3 @@",
    " function render(user) {",
    "-  show(user.name);",
    "+  show(escapeHtml(user.name)); // <b>not markup</b>",
    " }",
    "-- ",
    "2.45.0",
    "",
  ].join("\n");
  await alice.locator("#patch-branch").selectOption("trunk");
  await alice.locator("#patch-text").fill(patch);
  response = await submitAndWait(alice, alice.getByRole("button", { name: "Upload the patch" }));
  await check("case-fix-proposed", alice, response);
  expect((await alice.locator('tr[data-branch="trunk"] td.stage').textContent()).includes("proposed"), "trunk's fix is proposed");
  response = await submitAndWait(alice, alice.locator('tr[data-branch="trunk"] a'));
  await check("patch-diff", alice, response);
  expect(await alice.locator("pre.diff span.add").count() === 1 && await alice.locator("pre.diff span.del").count() === 1, "the patch shows as a diff");
  expect((await alice.locator("pre.diff span.add").textContent()).includes("<b>not markup</b>"), "markup in a patch stays text");
  response = await submitAndWait(alice, alice.locator("nav.breadcrumb").getByRole("link", { name: ref }));
  // Merged on trunk and 4.18, not affected on 4.19, then the testing evidence.
  for (const [branch, stage, commit] of [["trunk", "merged", "5f0c1e2d"], ["4.18", "merged", "a1b2c3d4"], ["4.19", "not-affected", ""]]) {
    await openFixForms();
    await alice.locator("#fix-branch").selectOption(branch);
    await alice.locator("#fix-stage-choice").selectOption(stage);
    await alice.locator("#fix-commit").fill(commit);
    response = await submitAndWait(alice, alice.getByRole("button", { name: "Record the stage" }));
    expect(response.status() === 200, `recording ${stage} on ${branch} answered ${response.status()}`);
  }
  await openFixForms();
  await alice.locator("#evidence-text").fill("The regression test fails before the fix and passes after.");
  await alice.locator("#evidence-links").fill("https://ci.example.org/private/run/7");
  response = await submitAndWait(alice, alice.getByRole("button", { name: "Record the evidence" }));
  await check("case-fixed", alice, response);
  expect((await alice.locator("#fix-status").textContent()).includes("the fix is ready"), "every branch is fixed and tested");
  await move("fix-ready", "Tested");
  // A refusal is shown as a clear message: a release needs a score, a CVE ID, versions,
  // the advisory and the embargo date first.
  response = await move("release-pending", "Too early");
  expect(response.status() === 409 || response.status() === 422, `moving on early answered ${response.status()}`);
  const refusal = (await alice.locator(".notice.error").textContent()).trim();
  expect(refusal.includes("CVSS") && refusal.includes("CVE ID"), `the refusal says why: "${refusal}"`);
  await check("case-refused", alice, response);
  console.log(`refusal shown: ${refusal}`);

  // 3. The calculator: metric buttons update the vector and score live.
  const vector = { AV: "N", AC: "L", PR: "L", UI: "R", S: "C", C: "H", I: "H", A: "N" };
  for (const [k, v] of Object.entries(vector)) {
    await alice.locator(`label[for="m-${k}-${v}"]`).click();
  }
  await alice.waitForFunction(() => /^\d+\.\d /.test(document.getElementById("cvss-score").textContent));
  const live = (await alice.locator("#cvss-score").textContent()).trim();
  const liveVector = (await alice.locator("#cvss-vector").textContent()).trim();
  expect(liveVector === "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:H/A:N", `live vector ${liveVector}`);
  await submitAndWait(alice, alice.getByRole("button", { name: "Save the score" }));
  const saved = (await alice.locator("#saved-score").textContent()).trim();
  const api = await (await fetch(`${base}/api/cases/${ref}`, { headers: { Authorization: `Bearer ${env("ALICE_TOKEN")}` } })).json();
  expect(api.cvss && api.cvss.score.toFixed(1) === saved, `saved ${saved}, API ${JSON.stringify(api.cvss)}`);
  expect(live.startsWith(saved + " "), `live score ${live} equals the saved ${saved}`);
  console.log(`scored ${live}; the API says ${api.cvss.score}`);
  // The temporal and environmental groups, folded until opened, join the vector live.
  await alice.locator("summary", { hasText: "Temporal metrics" }).click();
  await alice.locator('label[for="m-E-P"]').click();
  await alice.locator('label[for="m-RL-O"]').click();
  await alice.locator("summary", { hasText: "Environmental metrics" }).click();
  await alice.locator('label[for="m-CR-H"]').click();
  await alice.waitForFunction(() => document.getElementById("cvss-vector").textContent.endsWith("/E:P/RL:O/CR:H"));
  await alice.waitForFunction(() => /^\d+\.\d /.test(document.getElementById("cvss-score").textContent));

  // Details: the embargo date (UTC), the CVE ID, versions.
  const embargo = new Date(Date.now() + 50_000);
  const local = embargo.toISOString().slice(0, 19);
  await alice.getByLabel("Embargo until (UTC)").fill(local);
  await alice.getByLabel("CVE ID").fill("CVE-2026-41234");
  await alice.getByLabel("Affected versions").fill("4.0.0 through 4.19.1.1");
  await alice.getByLabel("Fixed in").fill("4.19.1.2");
  response = await submitAndWait(alice, alice.getByRole("button", { name: "Save the details" }));
  expect(response.status() === 200, `details answered ${response.status()}`);
  expect((await alice.locator("p.summary").textContent()).includes("Embargo until"), "the embargo date is shown");

  // The advisory, with its live preview.
  await alice.locator("#a-title").fill("Stored XSS in the instance console");
  await alice.locator("#a-description").fill("The console shows an instance's name without escaping it.");
  await alice.locator("#a-mitigation").fill("Upgrade to 4.19.1.2.");
  await alice.locator("#a-cwe").fill("CWE-79");
  await alice.locator("#a-credits").fill("Fay Finder (finder)");
  await alice.waitForFunction(() => document.getElementById("advisory-preview").textContent.includes("Upgrade to 4.19.1.2."));
  await submitAndWait(alice, alice.getByRole("button", { name: "Save the draft" }));
  expect((await alice.locator("#advisory-preview").textContent()).includes("Stored XSS in the instance console"), "the saved draft previews");

  // A canned response and a reply to the reporter; an internal note.
  await alice.getByLabel("Reply to the reporter").fill("Thank you, we can reproduce it and are working on a fix.");
  await submitAndWait(alice, alice.getByRole("button", { name: "Send the reply" }));
  await alice.getByLabel(/Internal note/).fill("Patch in review on the private branch.");
  await submitAndWait(alice, alice.getByRole("button", { name: "Add the note" }));

  // Now release-pending; then preview and schedule the announcement.
  response = await move("release-pending", "4.19.1.2 is staged");
  expect((await alice.locator("p.summary .badge").textContent()).trim() === "release-pending", "release-pending");
  await check("case-release-pending", alice, response);
  const subject = (await alice.locator("#announcement-subject").textContent()).trim();
  expect(subject.includes("CVE-2026-41234"), `announcement subject ${subject}`);
  expect((await alice.locator("#announcement-text").textContent()).includes("BEGIN PGP SIGNED MESSAGE"), "the preview is signed");
  await submitAndWait(alice, alice.getByRole("button", { name: "Schedule the announcement" }));
  expect((await alice.locator("#announcement").textContent()).includes("The announcement is scheduled."), "scheduled");
  console.log(`scheduled "${subject}" for ${local}Z`);

  // The admin page.
  response = await go(alice, "/desk/admin");
  await check("admin", alice, response);
  expect((await alice.locator("#p-CLOUDSTACK").count()) === 1, "the admin page lists the project");

  // 4. The reporter opens the secret link, replies and uploads a file.
  response = await go(reporter, secretPath);
  await check("reporter", reporter, response);
  expect((await reporter.locator(".thread").textContent()).includes("we can reproduce it"), "the reporter sees the team's reply");
  expect(!(await reporter.content()).includes("Patch in review"), "the reporter never sees internal notes");
  await reporter.getByLabel("Your message to the security team").fill("Glad to help. Will the fix be in 4.19.1.2?");
  await submitAndWait(reporter, reporter.getByRole("button", { name: "Send" }));
  expect((await reporter.locator(".thread").textContent()).includes("Will the fix be in 4.19.1.2?"), "the reply joins the thread");
  await reporter.setInputFiles("#upload-file", { name: "poc.html", mimeType: "text/html", buffer: Buffer.from("<img src=x onerror=alert(1)>\n") });
  await submitAndWait(reporter, reporter.getByRole("button", { name: "Upload" }));
  expect((await reporter.locator(".notice").textContent()).includes("uploaded"), "the upload is kept");
  // The reporter accepts the embargo date the team proposed, and chooses a handle.
  await submitAndWait(reporter, reporter.getByRole("button", { name: "Accept this date" }));
  expect((await reporter.locator(".notice").textContent()).includes("the date is agreed"), "the date is agreed");
  await reporter.getByRole("radio", { name: "by a handle" }).check();
  await reporter.getByLabel("The handle (if by a handle)").fill("sec-researcher");
  response = await submitAndWait(reporter, reporter.getByRole("button", { name: "Save" }));
  expect((await reporter.locator(".notice").textContent()).includes("credit you as you chose"), "the credit is saved");
  await check("reporter-agreed", reporter, response);

  // The team sees both on the case page.
  response = await go(alice, `/desk/cases/${ref}`);
  expect((await alice.locator("#thread").textContent()).includes("Will the fix be in 4.19.1.2?"), "the team sees the reply");
  expect(await alice.getByRole("link", { name: "poc.html" }).count() === 1, "the team sees the upload");

  // 5. A member of another project cannot reach the case page.
  const olgaContext = await browser.newContext();
  const olga = await olgaContext.newPage();
  watch(olga, "olga");
  await go(olga, "/sign-in");
  await olga.getByLabel("Email address").fill(env("OLGA_EMAIL"));
  await olga.getByLabel("Password").fill(env("OLGA_PASSWORD"));
  await submitAndWait(olga, olga.getByRole("button", { name: "Sign in" }));
  response = await go(olga, `/desk/cases/${ref}`);
  expect(response.status() === 404, `another project's member got ${response.status()}`);
  expect(!(await olga.content()).includes("Stored XSS"), "the 404 says nothing of the case");
  await check("not-found", olga, response);
  // Their own queue is reachable, and does not list the case either.
  response = await go(olga, "/desk");
  expect(response.status() === 200, `olga's queue answered ${response.status()}`);
  expect(await olga.getByRole("heading", { name: "Queue" }).count() === 1, "olga is on her queue");
  expect(await olga.getByRole("link", { name: ref }).count() === 0, "nor does their queue list it");
  expect((await olga.content()).includes("No cases match."), "olga's queue is empty");

  // Olga turns two-factor sign-in on from her account page: the QR code is drawn on the
  // server, the code from the secret turns it on, the recovery codes are shown once.
  response = await go(olga, "/desk/account");
  await check("account", olga, response);
  await olga.getByLabel("Your password (asked again)").first().fill(env("OLGA_PASSWORD"));
  await submitAndWait(olga, olga.getByRole("button", { name: "Set up two-factor sign-in" }));
  expect(await olga.locator("figure.qr svg").count() === 1, "a QR code on the page");
  const olgaSecret = (await olga.locator("#totp-secret").textContent()).trim();
  await olga.getByLabel("The code from the app").fill(totp(olgaSecret, Date.now() / 1000));
  response = await submitAndWait(olga, olga.getByRole("button", { name: "Turn two-factor sign-in on" }));
  expect(await olga.locator("#recovery-codes li").count() >= 8, "the recovery codes are shown");
  await check("account-recovery-codes", olga, response);

  // Without JavaScript, the calculator scores on submit.
  const plainContext = await browser.newContext({ javaScriptEnabled: false });
  await plainContext.addCookies(await aliceContext.cookies());
  const plain = await plainContext.newPage();
  await go(plain, `/desk/cases/${ref}?calc=4.0`);
  for (const [k, v] of Object.entries({ AV: "N", AC: "L", AT: "N", PR: "N", UI: "N", VC: "H", VI: "H", VA: "H", SC: "N", SI: "N", SA: "N" })) {
    await plain.locator(`label[for="m-${k}-${v}"]`).click();
  }
  await submitAndWait(plain, plain.getByRole("button", { name: "Score", exact: true }));
  const plainScore = (await plain.locator("#cvss-score").textContent()).trim();
  expect(plainScore === "9.3 Critical", `CVSS 4.0 scored without JavaScript: ${plainScore}`);
  // Every other group of 4.0: threat, environmental, supplemental.
  for (const group of ["Threat", "Environmental", "Supplemental"]) {
    await plain.locator("summary", { hasText: `${group} metrics` }).click();
  }
  for (const id of ["m-E-A", "m-MAV-L", "m-AU-Y"]) {
    await plain.locator(`label[for="${id}"]`).click();
  }
  response = await submitAndWait(plain, plain.getByRole("button", { name: "Score", exact: true }));
  const plainVector = (await plain.locator("#cvss-vector").textContent()).trim();
  expect(plainVector === "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A/MAV:L/AU:Y", `every group in the vector: ${plainVector}`);
  expect(/^\d+\.\d /.test((await plain.locator("#cvss-score").textContent()).trim()), "scored with every group");
  await check("calculator-groups", plain, response);

  // 6. After the embargo the public page shows the advisory.
  const wait = embargo.getTime() - Date.now();
  console.log(`waiting ${Math.max(0, Math.round(wait / 1000))} s for the embargo to lift`);
  const publicPage = await reporterContext.newPage();
  watch(publicPage, "public");
  let status = 0;
  for (let i = 0; i < 120 && status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    response = await go(publicPage, `/advisories/${ref}`);
    status = response.status();
  }
  expect(status === 200, `the advisory page answered ${status} after the embargo`);
  await check("advisory", publicPage, response);
  expect((await publicPage.content()).includes("Stored XSS in the instance console"), "the public page shows the advisory");
  response = await go(publicPage, "/advisories");
  await check("advisories", publicPage, response);
  expect(await publicPage.getByRole("link", { name: /Stored XSS/ }).count() === 1, "the index lists it");
  // The reporter's page links to the advisory now.
  response = await go(reporter, secretPath);
  await check("reporter-announced", reporter, response);
  expect(await reporter.locator(`a[href="/advisories/${ref}"]`).count() >= 1, "the reporter's page links the advisory");

  // After the announcement the case page guides the rest: the archived announcement,
  // the CVE record, CHANGES and NEWS.
  response = await go(alice, `/desk/cases/${ref}`);
  await check("case-announced", alice, response);
  expect((await alice.locator("#after").count()) === 1, "the after-announcement section shows");
  await alice.getByLabel("Archived announcement URL").fill("https://lists.cloudstack.example/thread/abc");
  response = await submitAndWait(alice, alice.getByRole("button", { name: "Record the archived announcement" }));
  expect((await alice.locator(".notice").first().textContent()).includes("archived announcement is recorded"), "the archive is recorded");
  expect((await alice.locator("#changes-entry").textContent()).includes("CVE-2026-41234"), "the CHANGES entry names the CVE");
  await check("case-archived", alice, response);
  // The owner, set on the case page and filtered by in the queue.
  await alice.getByLabel("Owner").selectOption("alice@example.org");
  await submitAndWait(alice, alice.getByRole("button", { name: "Set the owner" }));
  response = await go(alice, "/desk?owner=me");
  await check("queue-mine", alice, response);
  expect(await alice.getByRole("link", { name: ref }).count() >= 1, "my cases list the owned case");
  // The public ways in: a project's page, and the pages mailed links open.
  response = await go(publicPage, "/projects/CLOUDSTACK/advisories");
  await check("project-advisories", publicPage, response);
  expect(await publicPage.getByRole("link", { name: /Report a vulnerability/ }).count() >= 1, "the project page links the form");
  for (const [name, path] of [["invitation", "/invitations/inv_not-a-real-one"], ["welcome", "/welcome/wel_not-a-real-one"], ["setup-invalid", "/setup/not-a-real-one"]]) {
    response = await go(publicPage, path);
    await check(name, publicPage, response);
  }

  // 7. The process review page: server-rendered SVG charts, and figures the exports
  // must agree with (the Rust test compares them with embargo report).
  response = await go(alice, "/desk/metrics?project=CLOUDSTACK");
  expect(response.status() === 200, `the review page answered ${response.status()}`);
  expect(await alice.locator("#chart-states svg").count() === 1, "the chart of states is drawn");
  expect(await alice.locator("#chart-times svg").count() === 1, "the chart of times is drawn");
  await check("metrics", alice, response);
  const step = async (name) => ({
    count: Number((await alice.locator(`#m-times tr[data-step=${name}] td`).nth(1).textContent()).trim()),
    median: (await alice.locator(`#m-times tr[data-step=${name}] td`).nth(2).textContent()).trim(),
  });
  metrics = {
    cases: Number((await alice.locator("#m-cases").textContent()).trim()),
    overdue: Number((await alice.locator("#m-overdue").textContent()).trim()),
    acknowledge: await step("acknowledge"),
    announce: await step("announce"),
  };
  console.log(`review page: ${JSON.stringify(metrics)}`);
} catch (e) {
  fail(`the flow stopped: ${e.stack || e}`);
}
await finish({ metrics });
