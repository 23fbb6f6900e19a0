-- Seed data for local development. Idempotent (safe to load on every start) and free of personal
-- data: ids are synthetic, emails use the reserved example.invalid domain.
insert into public.users (id, email, first_name, last_name, role)
values
  ('user_seedDemoOwner', 'demo-owner@example.invalid', 'Demo', 'Owner', 'user'),
  ('user_seedDemoSupport', 'demo-support@example.invalid', 'Demo', 'Support', 'support'),
  ('user_seedDemoAdmin', 'demo-admin@example.invalid', 'Demo', 'Admin', 'admin')
on conflict (id) do nothing;

insert into public.projects (id, user_id, name, description)
values ('00000000-0000-4000-8000-000000000001', 'user_seedDemoOwner', 'Demo project', 'Seeded for local development')
on conflict (id) do nothing;

insert into public.workspace_tabs (id, project_id, user_id, position, title, kind, metadata)
values
  ('00000000-0000-4000-8000-000000000101', '00000000-0000-4000-8000-000000000001', 'user_seedDemoOwner', 0, 'Brief', 'brief', '{"activeBriefSectionIds": ["goals"]}'),
  ('00000000-0000-4000-8000-000000000102', '00000000-0000-4000-8000-000000000001', 'user_seedDemoOwner', 1, 'Notes', 'notes', '{}')
on conflict (project_id, id) do nothing;
