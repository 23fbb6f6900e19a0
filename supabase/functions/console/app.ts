/**
 * The support console: one page (HTML, an ES module and a style sheet: the files of static/, served
 * by this function from the generated assets.ts; no CDN, no network) that calls the privacy and admin functions with the staff
 * member's session token. This function serves files and its sign-in settings only; it holds no
 * data and needs no database: every decision is made by the endpoints the page calls.
 *
 * Security headers on every response: a strict Content-Security-Policy (scripts and styles from this
 * function only, no inline script, `frame-ancestors 'none'`; in production also Clerk's Frontend API
 * as Clerk documents: script/connect to the FAPI host, images from img.clerk.com, inline styles for
 * Clerk's CSS-in-JS, its bot-protection frame), nosniff, no referrer, no caching of the shell.
 */
import type { MiddlewareHandler } from "hono";
import { createFunctionApp } from "../_shared/http.ts";
import type { ConsoleConfig, SignIn } from "./config.ts";
import { signInFrom } from "./config.ts";
// The files of static/, as a module every deploy path bundles (tools/gen_console_assets.ts).
import { CONSOLE_ASSETS } from "./assets.ts";

const CLERK_CHALLENGES = "https://challenges.cloudflare.com";

/** The Content-Security-Policy of every response, for the configured sign-in. */
export function contentSecurityPolicy(signIn: SignIn): string {
  const clerk = signIn.mode === "clerk" ? [signIn.frontendApi] : [];
  const directives: Record<string, string[]> = {
    "default-src": ["'none'"],
    "script-src": ["'self'", ...clerk, ...(signIn.mode === "clerk" ? [CLERK_CHALLENGES] : [])],
    // Clerk's components style themselves at run time; without Clerk no inline style is allowed.
    "style-src": ["'self'", ...(signIn.mode === "clerk" ? ["'unsafe-inline'"] : [])],
    "img-src": ["'self'", "data:", ...(signIn.mode === "clerk" ? ["https://img.clerk.com"] : [])],
    "connect-src": ["'self'", ...clerk, ...(signIn.mode === "dev" ? [new URL(signIn.signInUrl).origin] : [])],
    "worker-src": signIn.mode === "clerk" ? ["'self'", "blob:"] : ["'none'"],
    "frame-src": signIn.mode === "clerk" ? [CLERK_CHALLENGES] : ["'none'"],
    "font-src": ["'self'"],
    "base-uri": ["'none'"],
    "form-action": ["'none'"],
    "frame-ancestors": ["'none'"],
    "object-src": ["'none'"],
  };
  return Object.entries(directives).map(([name, values]) => `${name} ${values.join(" ")}`).join("; ");
}

function securityHeaders(policy: string): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header("content-security-policy", policy);
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
    c.header("x-frame-options", "DENY");
    c.header("cross-origin-opener-policy", "same-origin");
    c.header("permissions-policy", "camera=(), microphone=(), geolocation=()");
  };
}

export function createConsoleApp(config: ConsoleConfig) {
  const signIn = signInFrom(config);
  const files = new Map(Object.entries(CONSOLE_ASSETS));

  const app = createFunctionApp("console", { corsOrigins: [], maxBodyBytes: config.MAX_BODY_BYTES });
  app.use("*", securityHeaders(contentSecurityPolicy(signIn)));

  const page = files.get("/")!;
  // The page itself is `/console/`: its relative links (app.js, ../privacy/…) need the trailing
  // slash, and hono's base path route "/" matches only `/console`, which is redirected there.
  app.use("*", async (c, next) => {
    if (c.req.method === "GET" && c.req.path === "/console/") {
      return c.body(page.body, 200, { "content-type": page.type, "cache-control": "no-store" });
    }
    await next();
  });
  app.get("/", (c) => c.redirect("console/", 308));
  for (const path of ["/app.js", "/app.css"]) {
    app.get(path, (c) => {
      const file = files.get(path)!;
      return c.body(file.body, 200, { "content-type": file.type, "cache-control": "no-cache" });
    });
  }
  app.get("/config.json", (c) => c.json(signIn, 200, { "cache-control": "no-store" }));
  return app;
}
