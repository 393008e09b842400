// The reporter kept informed: their page shows the date the team proposes; when the team
// moves it on the case page, the reporter is told by mail and their page shows the new
// date, which they accept; at the announcement they are told by mail again, and their
// page links the published advisory.
//
// The Rust test browser::reporter_told_* passes EMBARGO_URL, SHOTS, SINK_DIR, ALICE_EMAIL,
// ALICE_PASSWORD, REF (a case in release-pending with a proposed date), REPORTER_PATH
// (the reporter's page) and REPORTER (their address).

import { env, start } from "./common.mjs";

const { browser, fail, expect, check, watch, mailTo, go, submitAndWait, signIn, finish } = await start(env("EMBARGO_URL"), env("SHOTS"));
const ref = env("REF");
const fay = env("REPORTER");

try {
  const reporterContext = await browser.newContext();
  const reporter = await reporterContext.newPage();
  watch(reporter, "reporter");
  let response = await go(reporter, env("REPORTER_PATH"));
  await check("reporter-proposed", reporter, response);
  const proposed = (await reporter.locator("#embargo-date").textContent()).trim();
  expect(proposed.includes("The team proposes to announce on"), `the reporter sees the proposal: "${proposed}"`);
  const first = await mailTo(fay, /(The team proposes to disclose\s+\S+\s+on\s+\S+\s+\S+\s+UTC)/);
  console.log(`the reporter was told: ${first}`);

  // The team moves the date on the case page.
  const alice = await signIn("alice", env("ALICE_EMAIL"), env("ALICE_PASSWORD"));
  response = await go(alice, `/desk/cases/${ref}`);
  const embargo = new Date(Date.now() + 40_000);
  embargo.setMilliseconds(0);
  await alice.getByLabel("Embargo until (UTC)").fill(embargo.toISOString().slice(0, 19));
  response = await submitAndWait(alice, alice.getByRole("button", { name: "Save the details" }));
  expect(response.status() === 200, `saving the new date answered ${response.status()}`);
  const shown = embargo.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  expect((await alice.locator("p.summary").textContent()).includes(shown), `the case shows the new date ${shown}`);
  const moved = await mailTo(fay, /(The proposed disclosure date of\s+\S+\s+moved\s+from\s+\S+\s+\S+\s+UTC\s+to\s+\S+\s+\S+\s+UTC)/);
  expect(moved.replace(/\s+/g, " ").includes(shown), `the mail names the new date as the pages do: ${moved}`);
  console.log(`the reporter was told: ${moved}`);

  // The reporter's page shows the new date; they accept it.
  response = await go(reporter, env("REPORTER_PATH"));
  expect((await reporter.locator("#embargo-date").textContent()).includes(shown), "the reporter's page shows the new date");
  response = await submitAndWait(reporter, reporter.getByRole("button", { name: "Accept this date" }));
  expect((await reporter.locator(".notice").textContent()).includes("the date is agreed"), "the date is agreed");
  await check("reporter-agreed", reporter, response);
  // A reload after the answer sends nothing again: the answer redirected.
  response = await reporter.reload();
  expect(response.request().method() === "GET", "the reporter's page reloads with a GET");
  // They let the team's collaborators know who they are.
  response = await submitAndWait(reporter, reporter.getByRole("button", { name: "Let collaborators know who I am" }));
  expect((await reporter.locator(".notice").textContent()).includes("may know who you are"), "the choice is saved");
  expect(await reporter.getByRole("button", { name: "Keep them with the security team only" }).count() === 1, "and can be taken back");
  await check("reporter-identity-shared", reporter, response);

  // The team schedules; at the embargo the announcement goes out.
  response = await go(alice, `/desk/cases/${ref}`);
  await submitAndWait(alice, alice.getByRole("button", { name: "Schedule the announcement" }));
  expect((await alice.locator("#announcement").textContent()).includes("The announcement is scheduled."), "scheduled");
  const told = await mailTo(fay, /(is announced[^\r\n]*)/, 120);
  console.log(`the reporter was told: ${told}`);
  response = await go(reporter, env("REPORTER_PATH"));
  await check("reporter-announced", reporter, response);
  expect(await reporter.locator(`a[href="/advisories/${ref}"]`).count() >= 1, "the reporter's page links the advisory");
  response = await submitAndWait(reporter, reporter.locator(`a[href="/advisories/${ref}"]`).first());
  expect(response.status() === 200, `the advisory answered ${response.status()}`);
  await check("advisory-from-reporter", reporter, response);
} catch (e) {
  fail(`the flow stopped: ${e.stack || e}`);
}
await finish({});
