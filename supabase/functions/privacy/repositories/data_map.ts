/** The data map, for staff (RLS on privacy.data_map lets staff read it; others get 403). */
import type { Tx } from "../../_shared/db.ts";

/** One table of the map as GET /data-map shows it (schemas.ts: `DataMapTable`). */
export interface DataMapTableRow {
  table: string;
  subject_column: string;
  erasure: string;
  cascade_from: string | null;
  legal_basis: string | null;
  export: boolean;
  description: string;
  /** Null for a table without classified columns. */
  columns: { column: string; classification: string; personal: boolean; anonymize: boolean }[] | null;
}

/** One row: whether the caller is staff, and the tables (empty for others, RLS). */
export function readDataMap(tx: Tx) {
  return tx<{ staff: boolean; tables: DataMapTableRow[] }[]>`
      select private.is_staff() as staff,
             coalesce((
               select jsonb_agg(jsonb_build_object(
                        'table', m.table_schema || '.' || m.table_name,
                        'subject_column', m.subject_column,
                        'erasure', m.erasure,
                        'cascade_from', m.cascade_from,
                        'legal_basis', m.legal_basis,
                        'export', m.export,
                        'description', m.description,
                        'columns', (select jsonb_agg(jsonb_build_object(
                                             'column', c.column_name, 'classification', c.classification,
                                             'personal', c.personal, 'anonymize', c.anonymize)
                                           order by c.column_name)
                                      from privacy.data_map_columns c
                                     where c.table_schema = m.table_schema and c.table_name = m.table_name))
                      order by m.table_schema, m.table_name)
                 from privacy.data_map m), '[]'::jsonb) as tables
    `;
}
