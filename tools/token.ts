/**
 * Prints a Clerk-shaped session token from the dev issuer.
 *   npm run token -- user_2abcDEF [--ttl 3600] [--port 54321]
 */
import { mintSessionToken } from "./dev_issuer.ts";
import { devIssuer } from "./dev_env.ts";

const args = [...Deno.args];
const option = (name: string, fallback: string) => {
  const index = args.indexOf(name);
  if (index < 0) return fallback;
  const [, value] = args.splice(index, 2);
  return value;
};
const ttl = Number(option("--ttl", "3600"));
const port = Number(option("--port", "54321"));
const sub = args[0];
if (!sub || !/^user_[A-Za-z0-9]{1,64}$/.test(sub)) {
  console.error("usage: npm run token -- user_<id> [--ttl seconds] [--port gateway-port]");
  Deno.exit(2);
}
console.log(
  await mintSessionToken(sub, { issuer: Deno.env.get("CLERK_ISSUER") ?? devIssuer(port), expiresIn: ttl }),
);
