/**
 * The instructions that only edit the image config (BuildKit `dispatchEnv`, `dispatchLabel`,
 * `dispatchCmd`, …): each sets its config field and appends an `empty_layer` history entry with
 * BuildKit's text (`ENV a=b`, `CMD ["sh" "-c" "x"]`, `EXPOSE [80/tcp]`, …). ONBUILD only
 * records its trigger; ARG's environment work is done by `applyCommand`.
 */
import { goQuote } from '../dump.js';
import { parsePortSpec } from '../instructions/expose.js';
import { formatGoDuration } from '../instructions/go-parse.js';
import { parseSignal } from '../instructions/signal.js';
import type { Command } from '../instructions/types.js';
import { processWords } from '../shell/lex.js';
import type { BuildSession, StageState } from './session.js';
import { addHistory } from './steps.js';

const DEFAULT_SHELL = ['/bin/sh', '-c'];

/** BuildKit `addEnv`: replace the entry with the same key in place, else append. */
export function addEnv(env: readonly string[], key: string, value: string): string[] {
  const out = [...env];
  const i = out.findIndex((e) => (e.includes('=') ? e.slice(0, e.indexOf('=')) : e) === key);
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}

/** Go's `%q` of a string slice: `["a" "b"]`. */
function goQuoteList(list: readonly string[] | null): string {
  return `[${(list ?? []).map(goQuote).join(' ')}]`;
}

function withShell(state: StageState, command: readonly string[]): string[] {
  const shell = state.config.config?.Shell;
  const prefix = shell !== undefined && shell !== null && shell.length > 0 ? shell : DEFAULT_SHELL;
  return [...prefix, command.join(' ')];
}

/** Applies a metadata instruction (already expanded) to the stage. */
export function dispatchMetadata(
  session: BuildSession,
  state: StageState,
  cmd: Command,
  original: Command,
): void {
  const config = (state.config.config ??= {});
  const history = (text: string): void => {
    addHistory(session, state, text, true);
  };
  switch (cmd.kind) {
    case 'env': {
      let env = config.Env ?? [];
      for (const e of cmd.env) env = addEnv(env, e.key, e.value);
      config.Env = env;
      history(`ENV ${cmd.env.map((e) => `${e.key}=${e.value}`).join(' ')}`);
      return;
    }
    case 'label': {
      const labels = { ...(config.Labels ?? {}) };
      for (const l of cmd.labels) labels[l.key] = l.value;
      config.Labels = labels;
      history(`LABEL ${cmd.labels.map((l) => `${l.key}=${l.value}`).join(' ')}`);
      return;
    }
    case 'arg': {
      const args = original.kind === 'arg' ? original.args : cmd.args;
      const parts = args.map((a) => {
        const has =
          a.value !== undefined ||
          Object.hasOwn(session.options.buildArgs ?? {}, a.key) ||
          session.graph.globalArgs.has(a.key);
        const v = state.env.env.get(a.key);
        return has && v !== undefined ? `${a.key}=${v}` : a.key;
      });
      history(`ARG ${parts.join(' ')}`);
      return;
    }
    case 'maintainer':
      state.config.author = cmd.maintainer;
      history(`MAINTAINER ${cmd.maintainer}`);
      return;
    case 'expose': {
      const ports: string[] = [];
      for (const raw of cmd.ports) {
        for (const word of processWords(raw, state.env.env, { escapeToken: session.escapeToken })) {
          ports.push(...parsePortSpec(word));
        }
      }
      const exposed = { ...(config.ExposedPorts ?? {}) };
      for (const p of ports) exposed[p] = {};
      config.ExposedPorts = exposed;
      history(`EXPOSE [${ports.join(' ')}]`);
      return;
    }
    case 'volume': {
      const volumes = { ...(config.Volumes ?? {}) };
      for (const v of cmd.volumes) {
        if (v === '') throw new Error('VOLUME specified can not be an empty string');
        volumes[v] = {};
      }
      config.Volumes = volumes;
      history(`VOLUME [${cmd.volumes.join(' ')}]`);
      return;
    }
    case 'user':
      config.User = cmd.user;
      history(`USER ${cmd.user}`);
      return;
    case 'stopsignal':
      parseSignal(cmd.signal);
      config.StopSignal = cmd.signal;
      history(`STOPSIGNAL ${cmd.signal}`);
      return;
    case 'shell':
      config.Shell = [...cmd.shell];
      history(`SHELL [${cmd.shell.join(' ')}]`);
      return;
    case 'cmd': {
      const args = cmd.prependShell ? withShell(state, cmd.command) : [...cmd.command];
      config.Cmd = args;
      config.ArgsEscaped = true;
      state.cmdSet = true;
      history(`CMD ${goQuoteList(args)}`);
      return;
    }
    case 'entrypoint': {
      const args =
        cmd.command === null
          ? null
          : cmd.prependShell
            ? withShell(state, cmd.command)
            : [...cmd.command];
      config.Entrypoint = args;
      if (!state.cmdSet) delete config.Cmd;
      history(`ENTRYPOINT ${goQuoteList(args)}`);
      return;
    }
    case 'healthcheck': {
      const h = cmd.health;
      config.Healthcheck = {
        Test: [...h.test],
        ...(h.interval === 0 ? {} : { Interval: h.interval }),
        ...(h.timeout === 0 ? {} : { Timeout: h.timeout }),
        ...(h.startPeriod === 0 ? {} : { StartPeriod: h.startPeriod }),
        ...(h.startInterval === 0 ? {} : { StartInterval: h.startInterval }),
        ...(h.retries === 0 ? {} : { Retries: h.retries }),
      };
      history(
        `HEALTHCHECK {Test:[${h.test.join(' ')}] Interval:${formatGoDuration(h.interval)} Timeout:${formatGoDuration(h.timeout)} StartPeriod:${formatGoDuration(h.startPeriod)} StartInterval:${formatGoDuration(h.startInterval)} Retries:${String(h.retries)}}`,
      );
      return;
    }
    case 'onbuild':
      config.OnBuild = [...(config.OnBuild ?? []), cmd.expression];
      return;
    default:
      throw new Error(`${cmd.keyword} is not a metadata instruction`);
  }
}
