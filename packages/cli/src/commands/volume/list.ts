import type { Command } from '@commander-js/extra-typings';
import type { Volume, VolumeFilters } from '@lab/lifecycle';
import { invalidArgument } from '@lab/oci';
import type { CliContext, GlobalOptions } from '../../context.js';
import { renderRows } from '../../output/format.js';
import { collect, openVolumes } from './store.js';

const HEADERS = {
  Driver: 'DRIVER',
  Name: 'VOLUME NAME',
  Labels: 'LABELS',
  Mountpoint: 'MOUNTPOINT',
  Scope: 'SCOPE',
  Size: 'SIZE',
  Links: 'LINKS',
  Availability: 'AVAILABILITY',
  Group: 'GROUP',
  Status: 'STATUS',
};

/** docker's `volume ls` filters: dangling=, name=, label=, driver=. */
export function parseVolumeFilters(filters: readonly string[]): VolumeFilters {
  const out: VolumeFilters = {};
  for (const f of filters) {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? '' : f.slice(eq + 1);
    switch (key) {
      case 'dangling':
        if (['true', '1'].includes(value.toLowerCase())) out.dangling = true;
        else if (['false', '0'].includes(value.toLowerCase())) out.dangling = false;
        else throw invalidArgument(`invalid filter 'dangling=${value}'`);
        break;
      case 'name':
        (out.name ??= []).push(value);
        break;
      case 'label':
        (out.label ??= []).push(value);
        break;
      case 'driver':
        out.driver = value;
        break;
      default:
        throw invalidArgument(
          `invalid filter '${key}': lab volume ls filters on dangling=, name=, label= and driver=`,
        );
    }
  }
  return out;
}

/** A `volume ls` row with docker's fields. */
export function volumeRow(v: Volume): Record<string, string> {
  return {
    Availability: 'N/A',
    Driver: v.Driver,
    Group: 'N/A',
    Labels: Object.entries(v.Labels)
      .map(([k, val]) => `${k}=${val}`)
      .join(','),
    Links: 'N/A',
    Mountpoint: v.Mountpoint,
    Name: v.Name,
    Scope: v.Scope,
    Size: 'N/A',
    Status: 'N/A',
  };
}

/** `volume ls [-q] [-f FILTER] [--format table|json|TEMPLATE]`. */
export function defineList(parent: Command, ctx: CliContext, globals: () => GlobalOptions): void {
  parent
    .command('ls')
    .alias('list')
    .description('list volumes')
    .option('-q, --quiet', 'only display volume names')
    .option(
      '-f, --filter <filter>',
      'filter output: dangling=true|false, name=NAME, label=KEY[=VALUE], driver=local',
      collect,
      [],
    )
    .option(
      '--format <format>',
      "'table', 'json', 'table TEMPLATE' or a template such as '{{.Name}}'",
    )
    .action(async (options) => {
      const volumes = await openVolumes(globals).list(parseVolumeFilters(options.filter));
      if (options.quiet === true) {
        for (const v of volumes) ctx.stdout.write(`${v.Name}\n`);
        return;
      }
      ctx.stdout.write(
        renderRows(options.format, volumes.map(volumeRow), {
          defaultTable: 'table {{.Driver}}\\t{{.Name}}',
          headers: HEADERS,
        }),
      );
    });
}
