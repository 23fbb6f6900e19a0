/**
 * Prints a Clerk-shaped session token from the dev issuer, for the gateway on GATEWAY_PORT (the
 * token's `iss` must be the issuer that gateway verifies: CLERK_ISSUER, else its dev issuer).
 *   npm run -s token -- user_2abcDEF [--ttl 3600] [--port <gateway port>]
 */
import { mintSessionToken } from "./dev_issuer.ts";
import { devIssuer } from "./dev_env.ts";
import { fail, port as settingPort, takeOption } from "./settings.ts";

const args = [...Deno.args];
const ttl = Number(takeOption(args, "--ttl") ?? "3600");
const portOption = takeOption(args, "--port");
const port = portOption === undefined ? settingPort("GATEWAY_PORT") : Number(portOption);
const sub = args[0];
if (!sub || !/^user_[A-Za-z0-9]{1,64}$/.test(sub) || !(ttl > 0) || !Number.isInteger(port)) {
  console.error("usage: npm run -s token -- user_<id> [--ttl seconds] [--port gateway-port]");
  Deno.exit(2);
}
try {
  console.log(
    await mintSessionToken(sub, { issuer: Deno.env.get("CLERK_ISSUER") || devIssuer(port), expiresIn: ttl }),
  );
} catch (error) {
  fail(`could not mint a token: ${(error as Error).message}`);
}
