import { useState, type ReactNode } from 'react';
import {
  createSortedRowModel,
  rowSortingFeature,
  sortFn_alphanumeric,
  sortFn_basic,
  sortFn_text,
  tableFeatures,
  useTable,
  type ColumnDef,
  type RowData,
  type SortingState,
} from '@tanstack/react-table';

export interface ColMeta {
  /** Right-aligned, tabular digits. */
  numeric?: boolean;
  /** Monospace. */
  mono?: boolean;
  /** A second line under the header text (e.g. a SQL type). */
  sub?: string;
  className?: string;
}

export const tableFeats = tableFeatures({
  rowSortingFeature,
  sortedRowModel: createSortedRowModel(),
  sortFns: { alphanumeric: sortFn_alphanumeric, basic: sortFn_basic, text: sortFn_text },
  columnMeta: {} as ColMeta,
});

export type Col<T extends RowData> = ColumnDef<typeof tableFeats, T, any>;

export interface DataTableProps<T extends RowData> {
  data: T[];
  columns: Col<T>[];
  getRowId: (row: T, index: number) => string;
  testId?: string;
  rowTestId?: string;
  onRowClick?: (row: T) => void;
  rowClassName?: (row: T) => string | undefined;
  empty?: ReactNode;
  sortable?: boolean;
  className?: string;
}

export function DataTable<T extends RowData>(props: DataTableProps<T>) {
  const { data, columns, getRowId, testId, rowTestId, onRowClick, rowClassName, empty, sortable = true } = props;
  const [sorting, setSorting] = useState<SortingState>([]);
  const table = useTable({
    features: tableFeats,
    columns,
    data,
    getRowId,
    enableSorting: sortable,
    state: { sorting },
    onSortingChange: setSorting,
  });

  return (
    <div className={`table-wrap ${props.className ?? ''}`}>
      <table className="data" data-testid={testId}>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const meta = header.column.columnDef.meta;
                const canSort = header.column.getCanSort();
                const dir = header.column.getIsSorted();
                return (
                  <th
                    key={header.id}
                    className={`${meta?.numeric ? 'num' : ''} ${canSort ? 'sortable' : ''}`}
                    onClick={canSort ? header.column.getToggleSortingHandler() : undefined}
                    aria-sort={dir === 'asc' ? 'ascending' : dir === 'desc' ? 'descending' : undefined}
                  >
                    {header.isPlaceholder ? null : <table.FlexRender header={header} />}
                    {dir ? <span className="sort-dir">{dir === 'asc' ? ' ▲' : ' ▼'}</span> : null}
                    {meta?.sub ? <div className="col-type">{meta.sub}</div> : null}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr
              key={row.id}
              data-testid={rowTestId}
              className={`${onRowClick ? 'clickable' : ''} ${rowClassName?.(row.original) ?? ''}`}
              onClick={onRowClick ? () => onRowClick(row.original) : undefined}
            >
              {row.getAllCells().map((cell) => {
                const meta = cell.column.columnDef.meta;
                const cls = [meta?.numeric ? 'num' : '', meta?.mono ? 'mono' : '', meta?.className ?? ''].join(' ').trim();
                return (
                  <td key={cell.id} className={cls || undefined}>
                    <table.FlexRender cell={cell} />
                  </td>
                );
              })}
            </tr>
          ))}
          {data.length === 0 ? (
            <tr className="empty">
              <td colSpan={Math.max(1, columns.length)}>{empty ?? 'Nothing to show.'}</td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}
