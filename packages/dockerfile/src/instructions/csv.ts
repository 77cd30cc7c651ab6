/**
 * One record of Go's `encoding/csv` reader (default settings): fields separated by `,`,
 * `"quoted"` fields with `""` for a quote. Used for RUN `--mount` values.
 */
export function parseCsvRecord(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    if (line[i] === '"') {
      let field = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          throw new Error(
            `parse error on line 1, column ${n + 1}: extraneous or missing " in quoted-field`,
          );
        }
        field += line.slice(i, q);
        i = q + 1;
        if (line[i] === '"') {
          field += '"';
          i++;
          continue;
        }
        if (i === n || line[i] === ',') break;
        throw new Error(
          `parse error on line 1, column ${i + 1}: extraneous or missing " in quoted-field`,
        );
      }
      fields.push(field);
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? n : comma;
      const field = line.slice(i, end);
      const bare = field.indexOf('"');
      if (bare >= 0) {
        throw new Error(
          `parse error on line 1, column ${i + bare + 1}: bare " in non-quoted-field`,
        );
      }
      fields.push(field);
      i = end;
    }
    if (i >= n) break;
    i++; // the comma
    if (i === n) {
      fields.push('');
      break;
    }
  }
  return fields;
}
