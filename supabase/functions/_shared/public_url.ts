/**
 * Public URLs of a function's own resources (Location headers, links in bodies).
 *
 * Supabase serves a function at `<SUPABASE_URL>/functions/v1/<name>/...` but hands it the request
 * with the path after /functions/v1 (`/<name>/...`), so a link built from the request path alone
 * lacks the prefix and leads to "no such function". The platform sets SUPABASE_URL for every
 * function (the project URL, e.g. https://<ref>.supabase.co; the local gateway sets
 * http://127.0.0.1:<port>); links are built on it. Without it, a root-relative path with the
 * prefix (`/functions/v1/<name>/...`), which a client resolves against the URL it called.
 */
/** The path prefix under which the platform serves every function. */
export const FUNCTIONS_BASE_PATH = "/functions/v1";

function projectUrl(): string {
  const value = Deno.env.get("SUPABASE_URL")?.trim();
  if (!value) return "";
  try {
    const url = new URL(value);
    return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  } catch {
    return "";
  }
}

/**
 * The public URL of `path`, a path as the function sees it (`/api/projects/<id>`, starting with
 * the function's name, e.g. `new URL(c.req.url).pathname`).
 */
export function publicUrl(path: string): string {
  return `${projectUrl()}${FUNCTIONS_BASE_PATH}${path.startsWith("/") ? path : `/${path}`}`;
}
