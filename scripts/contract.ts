// `npm run contract -- --base URL [--client-id ID --client-secret S --user USR_... --country MX]`
// The contract suite a partner runs in their own CI: walks the consent flow and every documented
// route against the base URL and checks each answer against the OpenAPI document it serves.
// Exit 0 when every answer keeps the contract, 1 when one does not, 2 for bad arguments.
import { parseArgs } from "node:util";
import { walkContract } from "../testkit/contract-walk.ts";

const USAGE = `Usage: npm run contract -- --base URL [options]
  --base URL            the gateway, e.g. http://localhost:4000 (required)
  --client-id ID        sandbox client (default of_lab_demo)
  --client-secret S     its secret (default: $KAMINA_CLIENT_SECRET, else kamina-sandbox-secret)
  --user ID             a person of the sandbox (default USR_42891)
  --country CC          that person's country (default MX)
  --consent-text V      consent text version (default 2026-05-01)
  --webhook-url URL     a test webhook endpoint (default http://127.0.0.1:9/kamina-contract)
  --app-key K           the Kamina app's key, to walk authorise/reject too (default: $KAMINA_APP_KEY, else none)`;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        base: { type: "string" },
        "client-id": { type: "string", default: "of_lab_demo" },
        "client-secret": { type: "string", default: process.env.KAMINA_CLIENT_SECRET ?? "kamina-sandbox-secret" },
        user: { type: "string", default: "USR_42891" },
        country: { type: "string", default: "MX" },
        "consent-text": { type: "string", default: "2026-05-01" },
        "webhook-url": { type: "string", default: "http://127.0.0.1:9/kamina-contract" },
        "app-key": { type: "string", ...(process.env.KAMINA_APP_KEY ? { default: process.env.KAMINA_APP_KEY } : {}) },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (values.help || !values.base) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const report = await walkContract({
    baseUrl: values.base,
    clientId: values["client-id"],
    clientSecret: values["client-secret"],
    userId: values.user,
    country: values.country,
    consentTextVersion: values["consent-text"],
    webhookUrl: values["webhook-url"],
    ...(values["app-key"] ? { appKey: values["app-key"] } : {}),
    log: (line) => console.log(line),
  });
  const failed = report.steps.filter((step) => step.problems.length > 0).length;
  if (report.unexercised.length) console.log(`\nnot exercised: ${report.unexercised.join(", ")}`);
  console.log(`\n${report.steps.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`contract suite failed to run: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
