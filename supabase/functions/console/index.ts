/**
 * Support console edge function: /functions/v1/console/ serves the page staff use to run data-subject
 * requests, find users, read the audit log, watch jobs and migrations and (admins) manage staff. See
 * docs/CONSOLE.md. Composes config and app; nothing else.
 *
 * Public by design: the page and its sign-in settings hold no data. Every datum the page shows comes
 * from the privacy and admin functions, which check the session and the database role themselves.
 */
import { serve } from "../_shared/http.ts";
import { loadConsoleConfig } from "./config.ts";
import { createConsoleApp } from "./app.ts";

export const app = createConsoleApp(loadConsoleConfig());

serve(app);
