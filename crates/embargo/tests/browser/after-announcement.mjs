// After the announcement, the team does the rest from the case page: records the archived
// announcement, publishes the CVE record through CVE Services (a stand-in following the
// published API document), copies the CHANGES and NEWS entries, and makes the case public.
//
// The Rust test browser::after_the_announcement_* passes EMBARGO_URL, SHOTS, SINK_DIR,
// ALICE_EMAIL, ALICE_PASSWORD, REF (an announced case) and CVE (its reserved ID).

import { env, start } from "./common.mjs";

const { fail, expect, check, go, submitAndWait, signIn, finish } = await start(env("EMBARGO_URL"), env("SHOTS"));
const ref = env("REF");
const cve = env("CVE");

try {
  const alice = await signIn("alice", env("ALICE_EMAIL"), env("ALICE_PASSWORD"));
  let response = await go(alice, `/desk/cases/${ref}`);
  await check("case-announced", alice, response);
  expect((await alice.locator("#after").count()) === 1, "the after-announcement section shows");
  expect(await alice.locator("nav.sections").getByRole("link", { name: "After the announcement" }).count() === 1, "the sidebar links it");

  // 1. The archived announcement.
  await alice.getByLabel("Archived announcement URL").fill("https://lists.cloudstack.example/thread/abc");
  response = await submitAndWait(alice, alice.getByRole("button", { name: "Record the archived announcement" }));
  expect((await alice.locator(".notice").first().textContent()).includes("archived announcement is recorded"), "the archive is recorded");
  expect(await alice.locator('#after a[href="https://lists.cloudstack.example/thread/abc"]').count() === 1, "the recorded URL is shown");

  // 2. The CVE record, through CVE Services.
  response = await submitAndWait(alice, alice.getByRole("button", { name: `Publish ${cve} through CVE Services` }));
  expect(response.status() === 200, `publishing answered ${response.status()}`);
  expect((await alice.locator(".notice").first().textContent()).includes("The CVE record is published."), "the record is published");
  expect((await alice.locator("#after").textContent()).includes(`${cve} is published`), "the section says so");
  await check("case-cve-published", alice, response);

  // 3. CHANGES and NEWS, ready to copy.
  expect((await alice.locator("#changes-entry").textContent()).includes(cve), "the CHANGES entry names the CVE");
  expect((await alice.locator("#news-entry").textContent()).length > 0, "the NEWS entry is there");

  // Then public.
  const form = alice.locator('form.transition:has(input[name=to][value="public"])');
  if (await form.count() === 1) {
    const why = form.getByLabel("Why");
    if (await why.count() === 1) await why.fill("CHANGES and NEWS are updated");
    response = await submitAndWait(alice, form.getByRole("button", { name: "Move to public" }));
    expect((await alice.locator("p.summary .badge").textContent()).trim() === "public", "the case is public");
    await check("case-public", alice, response);
  } else {
    fail("no way to make the case public on its page");
  }
} catch (e) {
  fail(`the flow stopped: ${e.stack || e}`);
}
await finish({});
