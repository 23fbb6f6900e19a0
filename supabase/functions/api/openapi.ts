/**
 * The OpenAPI 3.1 document of the client API, generated from the zod schemas in schemas.ts (the
 * same objects the routes validate with), served at GET /functions/v1/api/openapi.json.
 */
import { z } from "zod";
import {
  CreateProjectBody,
  HistoryEvent,
  page,
  PageQuery,
  Project,
  ProjectListQuery,
  ReplaceTabsBody,
  TabList,
  UpdateMeBody,
  UpdateProjectBody,
  User,
} from "./schemas.ts";

const json = (schema: z.ZodType) => ({
  "application/json": { schema: z.toJSONSchema(schema, { io: "input" }) },
});
const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

function queryParameters(schema: z.ZodObject) {
  const jsonSchema = z.toJSONSchema(schema, { io: "input" }) as {
    properties: Record<string, unknown>;
    required?: string[];
  };
  return Object.entries(jsonSchema.properties).map(([name, property]) => ({
    name,
    in: "query",
    required: jsonSchema.required?.includes(name) ?? false,
    schema: property,
  }));
}

const projectId = { name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } };
const ok = (schema: z.ZodType, description = "OK") => ({ description, content: json(schema) });
const standardErrors = {
  "400": problem("Invalid input (field details in `errors`)"),
  "401": problem("Missing or invalid Clerk session token"),
  "503": problem("The database, or Clerk's signing keys, are unavailable: retry after `Retry-After` seconds"),
};

export function openApiDocument(serverUrl: string) {
  return {
    openapi: "3.1.0",
    info: {
      title: "Workspace client API",
      version: "1.0.0",
      description:
        "Called by client apps with a Clerk session token. Row-level security decides every read and write.",
    },
    servers: [{ url: serverUrl }],
    security: [{ clerkSession: [] }],
    components: {
      securitySchemes: {
        clerkSession: { type: "http", scheme: "bearer", bearerFormat: "Clerk session JWT (RS256)" },
      },
      schemas: {
        Problem: {
          type: "object",
          required: ["type", "title", "status"],
          properties: {
            type: { type: "string" },
            title: { type: "string" },
            status: { type: "integer" },
            detail: { type: "string" },
            errors: {
              type: "array",
              items: {
                type: "object",
                properties: { path: { type: "string" }, message: { type: "string" } },
              },
            },
          },
        },
      },
    },
    paths: {
      "/health": {
        get: {
          summary: "Database reachability (no token)",
          security: [],
          responses: { "200": { description: "Database answers" }, "503": problem("Database unavailable") },
        },
      },
      "/me": {
        get: {
          summary: "The caller's user row (provisioned just in time)",
          responses: { "200": ok(User), ...standardErrors },
        },
        patch: {
          summary: "Update fields the user owns",
          requestBody: { required: true, content: json(UpdateMeBody) },
          responses: { "200": ok(User), ...standardErrors },
        },
      },
      "/projects": {
        get: {
          summary: "The caller's projects, newest first (keyset pagination)",
          parameters: queryParameters(ProjectListQuery),
          responses: { "200": ok(page(Project)), ...standardErrors },
        },
        post: {
          summary: "Create a project",
          requestBody: { required: true, content: json(CreateProjectBody) },
          responses: { "201": ok(Project, "Created"), ...standardErrors },
        },
      },
      "/projects/{id}": {
        parameters: [projectId],
        get: {
          summary: "One project",
          responses: { "200": ok(Project), "404": problem("No such project"), ...standardErrors },
        },
        patch: {
          summary: "Update, archive or unarchive",
          requestBody: { required: true, content: json(UpdateProjectBody) },
          responses: {
            "200": ok(Project),
            "404": problem("No such project"),
            "409": problem("The project is deleted"),
            ...standardErrors,
          },
        },
        delete: {
          summary: "Soft delete (restorable within the retention window)",
          responses: {
            "204": { description: "Deleted" },
            "404": problem("No such project"),
            ...standardErrors,
          },
        },
      },
      "/projects/{id}/restore": {
        parameters: [projectId],
        post: {
          summary: "Restore a soft-deleted project",
          responses: {
            "200": ok(Project),
            "404": problem("No such project"),
            "409": problem("The project is not deleted"),
            "410": problem("Past the retention window"),
            ...standardErrors,
          },
        },
      },
      "/projects/{id}/tabs": {
        parameters: [projectId],
        get: {
          summary: "The ordered tab list; ETag carries its version",
          responses: { "200": ok(TabList), "404": problem("No such project"), ...standardErrors },
        },
        put: {
          summary: "Replace the ordered tab list (create, update, reorder, remove)",
          parameters: [{ name: "If-Match", in: "header", required: true, schema: { type: "string" } }],
          requestBody: { required: true, content: json(ReplaceTabsBody) },
          responses: {
            "200": ok(TabList),
            "404": problem("No such project"),
            "412": problem("The list changed since it was read"),
            "428": problem("If-Match missing"),
            ...standardErrors,
          },
        },
      },
      "/projects/{id}/history": {
        parameters: [projectId],
        get: {
          summary: "Change events, newest first",
          parameters: queryParameters(PageQuery),
          responses: { "200": ok(page(HistoryEvent)), "404": problem("No such project"), ...standardErrors },
        },
      },
    },
  };
}
