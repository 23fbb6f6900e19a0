/**
 * Prints a Clerk-shaped session token from the dev issuer, for the gateway on GATEWAY_PORT (the
 * token's `iss` must be the issuer that gateway verifies: CLERK_ISSUER, else its dev issuer).
 *   npm run -s token -- user_2abcDEF [--ttl 3600] [--port <gateway port>]
 */
import { mintSessionToken } from "./dev_issuer.ts";
import { devIssuer } from "./dev_env.ts";
import { commandLine, fail, portOption } from "./settings.ts";

const { values, positionals } = commandLine({
  ttl: { type: "string", default: "3600" },
  port: { type: "string" },
}, {
  positionals: true,
});
const ttl = Number(values.ttl);
const port = portOption(values.port, "GATEWAY_PORT");
const sub = positionals[0];
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
