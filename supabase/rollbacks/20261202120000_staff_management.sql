-- Rollback of 20261202120000_staff_management: the staff functions go; roles stay as they are.
drop function if exists private.set_staff_role(text, text);
drop function if exists private.staff_members();
