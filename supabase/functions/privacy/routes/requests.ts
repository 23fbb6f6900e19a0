/**
 * Data-subject requests: create, list, get, cancel, shorten grace, approve, download the export.
 * Every route needs a Clerk session (index.ts) and is rate limited per actor; the database decides who may see and
 * do what (privacy.* functions and RLS), and a request the caller may not see is a 404.
 */
import { Hono } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { notFound } from "../../_shared/errors.ts";
import { decodeCursor, encodeCursor, instantPart, takePage, uuidPart } from "../../_shared/pagination.ts";
import { validate } from "../../_shared/validation.ts";
import { documented } from "../../_shared/openapi.ts";
import {
  CreateRequestBody,
  DsarRequest,
  DsarRequestPage,
  EmptyQuery,
  ListRequestsQuery,
  RequestIdParam,
  ShortenGraceBody,
} from "../schemas.ts";
import { rateLimit, userCaller } from "../rate_limit.ts";
import { queryAs } from "../../_shared/caller.ts";
import {
  approveRequest,
  cancelRequest,
  createRequest,
  downloadExport,
  getRequest,
  listRequests,
  shortenGrace,
} from "../repositories/requests.ts";
import type { RequestRow } from "../repositories/requests.ts";
import { publicUrl } from "../../_shared/public_url.ts";

/** The API shape of a request (`DsarRequest`): the row, plus where to download a completed export. */
export function present(row: RequestRow & { cursor_received_at?: string }, basePath: string) {
  const { cursor_received_at: _, ...request } = row;
  return {
    ...request,
    export_url: request.kind === "export" && request.status === "completed"
      ? `${basePath}/${request.id}/export`
      : null,
  };
}

/** The public URL of /privacy/requests (or of one request), whatever the mount path. */
function requestsPath(url: string, id?: string): string {
  const path = new URL(url).pathname;
  const base = path.slice(0, path.indexOf("/requests") + "/requests".length);
  return publicUrl(id ? `${base}/${id}` : base);
}

export const requestRoutes = new Hono<SessionEnv>()
  .post(
    "/",
    documented({
      summary: "Make a data-subject request (export or erasure), for yourself or, as staff, for someone",
      responses: {
        201: { description: "Created: the request", schema: DsarRequest },
        403: "Not allowed for this subject or grace period",
        404: "No such user",
        409: "An erasure of this person is already open",
        410: "The user has been deleted",
        422: "The request does not make sense (field rules of the privacy functions)",
      },
    }),
    rateLimit("create"),
    validate("json", CreateRequestBody),
    async (c) => {
      const body = c.req.valid("json");
      const [row] = await queryAs(userCaller(c), (tx) => createRequest(tx, body));
      c.header("location", requestsPath(c.req.url, row.id));
      return c.json(present(row, requestsPath(c.req.url)), 201);
    },
  )
  .get(
    "/",
    documented({
      summary: "The requests the caller may see, newest first (keyset pagination; staff see all, audited)",
      responses: { 200: { description: "A page of requests", schema: DsarRequestPage } },
    }),
    rateLimit("read"),
    validate("query", ListRequestsQuery),
    async (c) => {
      const query = c.req.valid("query");
      const after = query.cursor ? decodeCursor(query.cursor, [instantPart, uuidPart]) : undefined;
      const rows = await queryAs(userCaller(c), (tx) =>
        listRequests(tx, {
          subjectUserId: query.subject_user_id,
          kind: query.kind,
          status: query.status,
          limit: query.limit,
          after: after && { receivedAt: after[0], id: after[1] },
        }));
      const { items, hasMore } = takePage(rows, query.limit);
      const last = items.at(-1);
      const base = requestsPath(c.req.url);
      return c.json({
        data: items.map((row) => present(row, base)),
        next_cursor: hasMore && last ? encodeCursor([last.cursor_received_at, last.id]) : null,
      });
    },
  )
  .get(
    "/:id",
    documented({
      summary: "One request",
      responses: { 200: { description: "The request", schema: DsarRequest }, 404: "No such request" },
    }),
    rateLimit("read"),
    validate("param", RequestIdParam),
    validate("query", EmptyQuery),
    async (c) => {
      const [row] = await queryAs(userCaller(c), (tx) => getRequest(tx, c.req.valid("param").id));
      if (!row) throw notFound("request");
      return c.json(present(row, requestsPath(c.req.url)));
    },
  )
  .post(
    "/:id/cancel",
    documented({
      summary: "Cancel a request that has not started",
      responses: {
        200: { description: "The cancelled request", schema: DsarRequest },
        404: "No such request",
        409: "Cannot be cancelled now",
      },
    }),
    rateLimit("change"),
    validate("param", RequestIdParam),
    async (c) => {
      const [row] = await queryAs(userCaller(c), (tx) => cancelRequest(tx, c.req.valid("param").id));
      return c.json(present(row, requestsPath(c.req.url)));
    },
  )
  .post(
    "/:id/grace",
    documented({
      summary: "Shorten an erasure's grace period, with a reason (staff; never longer, not once started)",
      responses: {
        200: { description: "The request with its new grace period and schedule", schema: DsarRequest },
        403: "Not staff",
        404: "No such request",
        409: "Not an erasure, or already started or finished",
        422: "Not shorter than the current grace period, or no reason",
      },
    }),
    rateLimit("change"),
    validate("param", RequestIdParam),
    validate("json", ShortenGraceBody),
    async (c) => {
      const body = c.req.valid("json");
      const [row] = await queryAs(
        userCaller(c),
        (tx) => shortenGrace(tx, c.req.valid("param").id, body.grace_hours, body.grace_reason),
      );
      return c.json(present(row, requestsPath(c.req.url)));
    },
  )
  .post(
    "/:id/approve",
    documented({
      summary: "Approve an erasure (an admin other than the requester)",
      responses: {
        200: { description: "The approved request", schema: DsarRequest },
        403: "Not an admin, or the requester",
        404: "No such request",
        409: "Needs no approval, or not in a state to approve",
      },
    }),
    rateLimit("change"),
    validate("param", RequestIdParam),
    async (c) => {
      const [row] = await queryAs(userCaller(c), (tx) => approveRequest(tx, c.req.valid("param").id));
      return c.json(present(row, requestsPath(c.req.url)));
    },
  )
  .get(
    "/:id/export",
    documented({
      summary: "Download a completed export (the stored JSON document, audited)",
      responses: {
        200: { description: "The export document", headers: ["x-export-sha256", "x-export-expires-at"] },
        404: "No such request",
        409: "Not an export, or not completed",
        410: "The export has expired",
      },
    }),
    rateLimit("download"),
    validate("param", RequestIdParam),
    validate("query", EmptyQuery),
    async (c) => {
      const [exported] = await queryAs(userCaller(c), (tx) => downloadExport(tx, c.req.valid("param").id));
      return c.body(exported.document, 200, {
        "content-type": "application/json; charset=utf-8",
        "content-disposition": `attachment; filename="dsar-export-${exported.id}.json"`,
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "x-export-sha256": exported.sha256,
        "x-export-expires-at": new Date(exported.expires_at).toISOString(),
      });
    },
  );
