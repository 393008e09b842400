// Runs BSI's CSAF validator (@secvisogram/csaf-validator-lib) on one CSAF 2.0 document:
// the schema, the mandatory, the optional and the informative tests. Prints every
// finding as JSON lines { suite, test, level, message, path } and nothing else.
// The spelling test (6.3.8) is left out: it needs hunspell and its dictionaries.
// Usage: node csaf-validate.mjs DOCUMENT.json
import { readFileSync } from 'node:fs'
import validate from '@secvisogram/csaf-validator-lib/validate.js'
import * as schema from '@secvisogram/csaf-validator-lib/schemaTests.js'
import * as mandatory from '@secvisogram/csaf-validator-lib/mandatoryTests.js'
import * as optional from '@secvisogram/csaf-validator-lib/optionalTests.js'
import * as informative from '@secvisogram/csaf-validator-lib/informativeTests.js'

const doc = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const suites = { schema, mandatory, optional, informative }
for (const [suite, tests] of Object.entries(suites)) {
  const run = Object.entries(tests)
    .filter(([name]) => !name.endsWith('6_3_8'))
    .map(([, test]) => test)
  const result = await validate(run, doc)
  for (const t of result.tests) {
    for (const [level, list] of [['error', t.errors], ['warning', t.warnings], ['info', t.infos]]) {
      for (const f of list ?? []) {
        console.log(JSON.stringify({ suite, test: t.name, level, message: f.message, path: f.instancePath }))
      }
    }
  }
}
