/*
 * supautils_shim: a LOCAL-ONLY stand-in for the few behaviours of Supabase's `supautils` extension
 * (https://github.com/supabase/supautils, >= 2.7.0) that this project's migrations and tests rely
 * on. It is never shipped: a hosted project has the real supautils. Loaded by tools/db.sh through
 * shared_preload_libraries; built with PGXS against postgresql-server-dev-15.
 *
 * On hosted Supabase the role `postgres` is not a superuser; supautils lets it (the
 * `supautils.privileged_role`) do a handful of superuser-only things by switching to the platform
 * superuser (`supautils.privileged_extensions_superuser`, supabase_admin) for exactly that statement.
 * This shim emulates only what our migrations, rollbacks and test set-up execute, and nothing else:
 *
 *  1. CREATE EXTENSION / DROP EXTENSION / COMMENT ON EXTENSION of a "privileged extension"
 *     (supautils_shim.privileged_extensions: on Supabase pg_cron, pgtap, plpgsql_check... are in
 *     supautils.privileged_extensions) by a member of the privileged role runs as the superuser;
 *     after a CREATE the extension's `after-create.sql` custom script (Supabase's, copied into
 *     tools/supautils_shim/extension_custom_scripts/<ext>/) runs as the superuser, which is how
 *     hosted pg_cron gets its grants. Unlike supautils, the shim does nothing for non-members or
 *     for extensions outside the list, and runs the script only when the extension was created.
 *  2. CREATE EVENT TRIGGER by a member of the privileged role runs as the superuser and the event
 *     trigger is then owned by the creating role (supautils >= 2.7.0). The function must not be
 *     superuser-owned (the same check as supautils). The owner may then ALTER, COMMENT ON and DROP
 *     its event trigger with PostgreSQL's ordinary ownership checks; nothing else is elevated.
 *  3. Event trigger functions are skipped (made a no-op, like supautils) when the firing role is a
 *     superuser and the function is not owned by that same superuser, or when the firing role is a
 *     reserved role (supautils_shim.reserved_roles) and the function is not superuser-owned. So,
 *     as on Supabase, DDL run by supabase_admin, anon, authenticated, service_role... never reaches
 *     postgres-owned event triggers.
 *
 *  4. SET [LOCAL] of a setting in supautils_shim.privileged_role_allowed_configs (on Supabase,
 *     supautils.privileged_role_allowed_configs includes session_replication_role; the shim lists
 *     only that one) by a member of the privileged role runs as the superuser.
 *
 * Everything else (CREATE ROLE, GRANT, ALTER ROLE, policies, publications...) is plain PostgreSQL:
 * `postgres` has CREATEROLE, and PostgreSQL 15's rules are at least as strict as supautils's.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_event_trigger.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "storage/fd.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

PG_MODULE_MAGIC;

void _PG_init(void);

static char *privileged_role = NULL;
static char *shim_superuser = NULL;
static char *privileged_extensions = NULL;
static char *reserved_roles = NULL;
static char *custom_scripts_path = NULL;
static char *allowed_configs = NULL;

static ProcessUtility_hook_type prev_process_utility = NULL;
static needs_fmgr_hook_type prev_needs_fmgr = NULL;
static fmgr_hook_type prev_fmgr = NULL;

/* The function behind `select version()`: what a skipped event trigger runs instead (as supautils). */
extern Datum pgsql_version(PG_FUNCTION_ARGS);

/* Is `name` in the comma-separated `list`? An entry ending in '*' matches by prefix. */
static bool
in_list(const char *name, const char *list)
{
	char	   *copy;
	List	   *items = NIL;
	ListCell   *lc;
	bool		found = false;

	if (name == NULL || list == NULL || list[0] == '\0')
		return false;
	copy = pstrdup(list);
	if (!SplitIdentifierString(copy, ',', &items))
		ereport(ERROR, (errmsg("supautils_shim: cannot parse list \"%s\"", list)));
	foreach(lc, items)
	{
		char	   *item = (char *) lfirst(lc);
		size_t		len = strlen(item);

		if ((len > 1 && item[len - 1] == '*' && strncmp(name, item, len - 1) == 0) ||
			strcmp(name, item) == 0)
		{
			found = true;
			break;
		}
	}
	list_free(items);
	pfree(copy);
	return found;
}

static bool
current_role_is_privileged(void)
{
	Oid			role;

	if (privileged_role == NULL || privileged_role[0] == '\0')
		return false;
	role = get_role_oid(privileged_role, true);
	return OidIsValid(role) && has_privs_of_role(GetUserId(), role);
}

static void
call_next(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
		  ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *queryEnv,
		  DestReceiver *dest, QueryCompletion *qc)
{
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

/* Runs the statement as the platform superuser, then switches back (also on error). */
static void
call_next_as_superuser(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					   ProcessUtilityContext context, ParamListInfo params,
					   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Oid			saved_user;
	int			saved_context;
	Oid			super = get_role_oid(shim_superuser, false);

	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(super, saved_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		call_next(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(saved_user, saved_context);
	}
	PG_END_TRY();
}

/* <custom_scripts_path>/<extension>/after-create.sql, run as the superuser when present. */
static void
run_after_create_script(const char *extname)
{
	char		path[MAXPGPATH];
	FILE	   *file;
	StringInfoData script;
	char		chunk[8192];
	size_t		n;
	Oid			saved_user;
	int			saved_context;

	if (custom_scripts_path == NULL || custom_scripts_path[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/%s/after-create.sql", custom_scripts_path, extname);
	file = AllocateFile(path, "r");
	if (file == NULL)
	{
		if (errno == ENOENT)
			return;
		ereport(ERROR, (errcode_for_file_access(),
						errmsg("supautils_shim: could not open \"%s\": %m", path)));
	}
	initStringInfo(&script);
	while ((n = fread(chunk, 1, sizeof(chunk), file)) > 0)
		appendBinaryStringInfo(&script, chunk, n);
	FreeFile(file);

	CommandCounterIncrement();
	GetUserIdAndSecContext(&saved_user, &saved_context);
	SetUserIdAndSecContext(get_role_oid(shim_superuser, false),
						   saved_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
	PG_TRY();
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "supautils_shim: SPI_connect failed");
		if (SPI_execute(script.data, false, 0) < 0)
			elog(ERROR, "supautils_shim: %s failed", path);
		SPI_finish();
		PopActiveSnapshot();
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(saved_user, saved_context);
	}
	PG_END_TRY();
	pfree(script.data);
}

/* The event trigger just created (by the superuser) becomes the creating role's, as supautils does. */
static void
set_event_trigger_owner(const char *trigname, Oid owner)
{
	Relation	rel = table_open(EventTriggerRelationId, RowExclusiveLock);
	HeapTuple	tuple = SearchSysCacheCopy1(EVENTTRIGGERNAME, CStringGetDatum(trigname));
	Form_pg_event_trigger form;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "supautils_shim: event trigger \"%s\" not found", trigname);
	form = (Form_pg_event_trigger) GETSTRUCT(tuple);
	form->evtowner = owner;
	CatalogTupleUpdate(rel, &tuple->t_self, tuple);
	changeDependencyOnOwner(EventTriggerRelationId, form->oid, owner);
	InvokeObjectPostAlterHook(EventTriggerRelationId, form->oid, 0);
	heap_freetuple(tuple);
	table_close(rel, RowExclusiveLock);
	CommandCounterIncrement();
}

static bool
all_privileged(List *names)
{
	ListCell   *lc;

	foreach(lc, names)
	{
		if (!in_list(strVal(lfirst(lc)), privileged_extensions))
			return false;
	}
	return names != NIL;
}

static void
shim_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					 ProcessUtilityContext context, ParamListInfo params,
					 QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *node = pstmt->utilityStmt;

	if (IsTransactionState() && !superuser() && current_role_is_privileged())
	{
		switch (nodeTag(node))
		{
			case T_CreateExtensionStmt:
				{
					CreateExtensionStmt *stmt = (CreateExtensionStmt *) node;

					if (in_list(stmt->extname, privileged_extensions))
					{
						bool		existed = OidIsValid(get_extension_oid(stmt->extname, true));

						call_next_as_superuser(pstmt, queryString, readOnlyTree, context, params,
											   queryEnv, dest, qc);
						if (!existed)
							run_after_create_script(stmt->extname);
						return;
					}
					break;
				}
			case T_DropStmt:
				{
					DropStmt   *stmt = (DropStmt *) node;

					if (stmt->removeType == OBJECT_EXTENSION && all_privileged(stmt->objects))
					{
						call_next_as_superuser(pstmt, queryString, readOnlyTree, context, params,
											   queryEnv, dest, qc);
						return;
					}
					break;
				}
			case T_CommentStmt:
				{
					CommentStmt *stmt = (CommentStmt *) node;

					if (stmt->objtype == OBJECT_EXTENSION &&
						in_list(strVal(stmt->object), privileged_extensions))
					{
						call_next_as_superuser(pstmt, queryString, readOnlyTree, context, params,
											   queryEnv, dest, qc);
						return;
					}
					break;
				}
			case T_CreateEventTrigStmt:
				{
					CreateEventTrigStmt *stmt = (CreateEventTrigStmt *) node;
					Oid			creator = GetUserId();
					Oid			func = LookupFuncName(stmt->funcname, 0, NULL, false);
					HeapTuple	proc = SearchSysCache1(PROCOID, ObjectIdGetDatum(func));
					Oid			func_owner;

					if (!HeapTupleIsValid(proc))
						elog(ERROR, "cache lookup failed for function %u", func);
					func_owner = ((Form_pg_proc) GETSTRUCT(proc))->proowner;
					ReleaseSysCache(proc);
					if (superuser_arg(func_owner))
						ereport(ERROR,
								(errmsg("Non-superuser owned event trigger must execute a non-superuser owned function"),
								 errdetail("The current user \"%s\" is not a superuser and the function \"%s\" is owned by a superuser",
										   GetUserNameFromId(creator, false),
										   NameListToString(stmt->funcname))));
					call_next_as_superuser(pstmt, queryString, readOnlyTree, context, params,
										   queryEnv, dest, qc);
					set_event_trigger_owner(stmt->trigname, creator);
					return;
				}
			case T_VariableSetStmt:
				{
					VariableSetStmt *stmt = (VariableSetStmt *) node;

					if (stmt->name != NULL && in_list(stmt->name, allowed_configs))
					{
						call_next_as_superuser(pstmt, queryString, readOnlyTree, context, params,
											   queryEnv, dest, qc);
						return;
					}
					break;
				}
			default:
				break;
		}
	}
	call_next(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

static bool
is_event_trigger_function(Oid func)
{
	return get_func_rettype(func) == EVENT_TRIGGEROID;
}

static bool
shim_needs_fmgr(Oid func)
{
	if (prev_needs_fmgr && prev_needs_fmgr(func))
		return true;
	return is_event_trigger_function(func);
}

static void
make_noop(FmgrInfo *flinfo)
{
	flinfo->fn_addr = pgsql_version;
	flinfo->fn_oid = 89;		/* version() */
	flinfo->fn_nargs = 0;
	flinfo->fn_strict = false;
	flinfo->fn_retset = false;
	flinfo->fn_extra = NULL;
	flinfo->fn_expr = NULL;
}

static void
shim_fmgr(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (event == FHET_START && is_event_trigger_function(flinfo->fn_oid))
	{
		HeapTuple	proc = SearchSysCache1(PROCOID, ObjectIdGetDatum(flinfo->fn_oid));
		Oid			owner;
		bool		secdef;
		Oid			role;

		if (!HeapTupleIsValid(proc))
			elog(ERROR, "cache lookup failed for function %u", flinfo->fn_oid);
		owner = ((Form_pg_proc) GETSTRUCT(proc))->proowner;
		secdef = ((Form_pg_proc) GETSTRUCT(proc))->prosecdef;
		ReleaseSysCache(proc);
		/* A security definer function already runs as its owner: judge the role that fired it. */
		role = secdef ? GetOuterUserId() : GetUserId();
		if (superuser_arg(role))
		{
			if (!superuser_arg(owner) || role != owner)
				make_noop(flinfo);
		}
		else if (in_list(GetUserNameFromId(role, false), reserved_roles) && !superuser_arg(owner))
			make_noop(flinfo);
	}
	if (prev_fmgr)
		prev_fmgr(event, flinfo, private);
}

void
_PG_init(void)
{
	DefineCustomStringVariable("supautils_shim.privileged_role",
							   "Role whose members may run the elevated statements (supautils.privileged_role).",
							   NULL, &privileged_role, "postgres", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("supautils_shim.superuser",
							   "Superuser the elevated statements run as (supautils.privileged_extensions_superuser).",
							   NULL, &shim_superuser, "supabase_admin", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("supautils_shim.privileged_extensions",
							   "Extensions the privileged role may create, drop and comment on (supautils.privileged_extensions).",
							   NULL, &privileged_extensions, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("supautils_shim.reserved_roles",
							   "Roles for which non-superuser-owned event triggers never fire (supautils.reserved_roles).",
							   NULL, &reserved_roles, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("supautils_shim.extension_custom_scripts_path",
							   "Folder of <extension>/after-create.sql scripts (supautils.extension_custom_scripts_path).",
							   NULL, &custom_scripts_path, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("supautils_shim.privileged_role_allowed_configs",
							   "Superuser-only settings the privileged role may SET (supautils.privileged_role_allowed_configs).",
							   NULL, &allowed_configs, "", PGC_SIGHUP, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("supautils_shim");

	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = shim_process_utility;
	prev_needs_fmgr = needs_fmgr_hook;
	needs_fmgr_hook = shim_needs_fmgr;
	prev_fmgr = fmgr_hook;
	fmgr_hook = shim_fmgr;
}
