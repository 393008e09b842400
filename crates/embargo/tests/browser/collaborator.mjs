// A collaborator: a team member invites them from the case page; they get the invitation
// by mail, accept the confidentiality terms in the browser with a password of their own,
// and sign in. Their case page withholds the reporter's identity and offers no team form;
// they add a note to their thread with the team, propose a private patch and add testing
// evidence. The team reads all three on the case page, and may not be refused the
// collaborator's work for a form the collaborator does not have.
//
// The Rust test browser::collaborator_* passes EMBARGO_URL, SHOTS, SINK_DIR, ALICE_EMAIL,
// ALICE_PASSWORD (a team member), REF (a confirmed case) and REPORTER (its reporter's
// address).

import { env, start } from "./common.mjs";

const { browser, fail, expect, check, watch, mailTo, go, submitAndWait, signIn, finish } = await start(env("EMBARGO_URL"), env("SHOTS"));
const ref = env("REF");

try {
  const alice = await signIn("alice", env("ALICE_EMAIL"), env("ALICE_PASSWORD"));
  let response = await go(alice, `/desk/cases/${ref}`);
  await alice.getByLabel("Invite a collaborator to this case (their address)").fill("helper@example.org");
  response = await submitAndWait(alice, alice.getByRole("button", { name: "Invite", exact: true }));
  await check("case-collaborator-invited", alice, response);

  const invitation = await mailTo("helper@example.org", /(\/invitations\/[A-Za-z0-9_-]+)/);
  const helperContext = await browser.newContext();
  const helper = await helperContext.newPage();
  watch(helper, "helper");
  response = await go(helper, invitation);
  await check("invitation-terms", helper, response);
  // The box must be ticked: the browser asks for it before anything is sent.
  expect(await helper.getByLabel("I accept the confidentiality terms").evaluate((b) => b.required), "accepting the terms is required");
  await helper.getByLabel("I accept the confidentiality terms").check();
  await helper.getByLabel(/Your password/).fill("helper password 12");
  response = await submitAndWait(helper, helper.getByRole("button", { name: "Accept and continue" }));
  expect(helper.url().includes("/sign-in"), `after accepting, at ${helper.url()}`);
  expect((await helper.locator(".notice").textContent()).includes("You accepted the confidentiality terms"), "the sign-in page says the terms are accepted");
  await helper.getByLabel("Email address").fill("helper@example.org");
  await helper.getByLabel("Password").fill("helper password 12");
  response = await submitAndWait(helper, helper.getByRole("button", { name: "Sign in" }));
  expect(helper.url().endsWith(`/desk/cases/${ref}`), `the case opens, at ${helper.url()}`);
  await check("case-collaborator", helper, response);
  const seen = await helper.content();
  expect(!seen.includes(env("REPORTER")), "the collaborator never sees the reporter's address");
  expect(seen.includes("withheld from collaborators"), "the page says the reporter is withheld");
  expect((await helper.locator('form[action$="/transition"], form[action$="/details"], form[action$="/fix"], form[action$="/reply"]').count()) === 0, "no team form for a collaborator");
  // The API refuses them the reporter too.
  const api = await helper.evaluate(async (path) => (await fetch(path)).json(), `/api/cases/${ref}`);
  expect(api.reporter && api.reporter.email == null && api.reporter_withheld === true, `the API withholds the reporter: ${JSON.stringify(api.reporter)}`);

  // A note, a patch and evidence.
  await helper.getByLabel(/A note for the security team/).fill("Reproduced with the PoC on 4.19.");
  response = await submitAndWait(helper, helper.getByRole("button", { name: "Add the note" }));
  expect((await helper.locator("#thread").textContent()).includes("Reproduced with the PoC on 4.19."), "the note joins their thread");
  const patch = [
    "From: Helper <helper@example.org>",
    "Subject: [PATCH] Escape the instance name in the console",
    "",
    "---",
    "diff --git a/console.js b/console.js",
    "--- a/console.js",
    "+++ b/console.js",
    "@@ -1 +1 @@",
    "-show(name);",
    "+show(escapeHtml(name));",
    "",
  ].join("\n");
  await helper.locator("#patch-branch").selectOption("trunk");
  await helper.locator("#patch-text").fill(patch);
  response = await submitAndWait(helper, helper.getByRole("button", { name: "Upload the patch" }));
  expect(response.status() === 200, `the patch answered ${response.status()}`);
  expect((await helper.locator('#fix-branches li[data-branch="trunk"]').textContent()).includes("proposed"), "their patch is proposed on trunk");
  await helper.locator("#evidence-text").fill("The PoC no longer fires with the patch applied.");
  response = await submitAndWait(helper, helper.getByRole("button", { name: "Record the evidence" }));
  await check("case-collaborator-contributed", helper, response);
  response = await submitAndWait(helper, helper.getByRole("link", { name: "pasted.patch" }));
  expect(await helper.locator("pre.diff span.add").count() === 1, "the collaborator sees their patch as a diff");
  await helperContext.close();

  // The team sees the note, the proposal and the evidence, by whom.
  response = await go(alice, `/desk/cases/${ref}`);
  await check("case-after-collaborator", alice, response);
  expect((await alice.locator("#timeline").textContent()).includes("Reproduced with the PoC on 4.19."), "the team reads the collaborator's note");
  expect((await alice.locator('tr[data-branch="trunk"]').textContent()).includes("helper@example.org"), "the proposal names the collaborator");
  expect((await alice.locator("ul.evidence").textContent()).includes("The PoC no longer fires"), "the team reads the evidence");
} catch (e) {
  fail(`the flow stopped: ${e.stack || e}`);
}
await finish({});
