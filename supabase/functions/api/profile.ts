/**
 * Profile fields taken from a verified Clerk session token, for just-in-time provisioning only.
 * Clerk puts them there when the session token is customised (e.g. `"email":
 * "{{user.primary_email_address}}"`); absent or malformed values are simply left out, and the
 * Clerk webhook fills the row later.
 */
import { z } from "zod";
import type { SessionClaims } from "../_shared/auth.ts";
import type { TokenProfile } from "./repositories/users.ts";

const optionalText = (schema: z.ZodString) =>
  z.unknown().transform((value) => schema.safeParse(value).success ? value as string : null);

const ProfileClaims = z.object({
  email: optionalText(z.string().max(320).regex(/^[^@\s]+@[^@\s]+$/)),
  first_name: optionalText(z.string().min(1).max(200)),
  last_name: optionalText(z.string().min(1).max(200)),
  image_url: optionalText(z.string().max(2048).regex(/^https:\/\//)),
});

export function profileFromClaims(claims: SessionClaims): TokenProfile {
  return ProfileClaims.parse({
    email: claims.email,
    first_name: claims.first_name ?? claims.given_name,
    last_name: claims.last_name ?? claims.family_name,
    image_url: claims.image_url ?? claims.picture,
  });
}
