import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from '@city/logger';
import type { AlertRule, AlertRulesFile, Silence } from '@city/schema';
import { loadAlertRulesFile } from '../load-alert-rules.ts';
import type { AlertMetrics } from './alert-metrics.ts';

export interface AlertRulesSourceOptions {
  path: string;
  /** The file as loaded at start (start fails on a bad file; a reload does not). */
  initial: AlertRulesFile;
  logger: Logger;
  alertMetrics: AlertMetrics;
  /** Called after a reload took effect, with the rules before and after. */
  onChange?: (previous: readonly AlertRule[], current: readonly AlertRule[]) => void;
  /**
   * Quiet time after the last file event before reloading (editors write in several steps).
   * @defaultValue 200
   */
  debounceMs?: number;
}

export interface ReloadOutcome {
  ok: boolean;
  rules: number;
  error?: string;
}

export type AlertRulesSource = ReturnType<typeof createAlertRulesSource>;

/**
 * The rules in force, replaced whole by a reload. A reload that fails validation keeps the rules in force, and
 * says why (log, `city_worker_alert_rule_reloads_total{result="failed"}`, and the returned outcome).
 */
export function createAlertRulesSource(options: AlertRulesSourceOptions) {
  const { logger, alertMetrics, debounceMs = 200 } = options;
  let file = options.initial;
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let last: ReloadOutcome = { ok: true, rules: file.rules.length };
  alertMetrics.rulesLoaded.set(file.rules.length);

  const source = {
    rules: (): readonly AlertRule[] => file.rules,
    maintenance: (): readonly Silence[] => file.maintenance,
    lastReload: (): ReloadOutcome => last,
    async reload(reason: string): Promise<ReloadOutcome> {
      try {
        const next = await loadAlertRulesFile(options.path);
        const previous = file.rules;
        file = next;
        alertMetrics.ruleReloads.inc({ result: 'ok' });
        alertMetrics.rulesLoaded.set(next.rules.length);
        logger.info({ reason, rules: next.rules.length, path: options.path }, 'alert rules reloaded');
        options.onChange?.(previous, next.rules);
        last = { ok: true, rules: next.rules.length };
      } catch (err) {
        alertMetrics.ruleReloads.inc({ result: 'failed' });
        logger.error({ reason, path: options.path, err: (err as Error).message }, 'alert rules reload failed: keeping the rules in force');
        last = { ok: false, rules: file.rules.length, error: (err as Error).message };
      }
      return last;
    },
    /** Reload when the file changes. Watches the directory: editors often replace a file rather than write it. */
    watch(): void {
      const dir = path.dirname(path.resolve(options.path));
      const base = path.basename(options.path);
      watcher = watch(dir, (_event, name) => {
        if (name !== base) return;
        clearTimeout(timer);
        timer = setTimeout(() => void source.reload('file changed'), debounceMs);
      });
      watcher.on('error', (err) => logger.warn({ err: err.message }, 'alert rules watch failed'));
    },
    close(): void {
      clearTimeout(timer);
      watcher?.close();
    },
  };
  return source;
}

/**
 * `pnpm city alerts reload` publishes on `{prefix}:alerts:reload`; every worker subscribed reloads its file and
 * records the outcome in the hash `{prefix}:alerts:rules-status` (field: worker id), where the CLI reads it.
 */
export async function listenForReloads(options: { subscriber: Redis; redis: Redis; prefix: string; workerId: string; source: AlertRulesSource }): Promise<() => Promise<void>> {
  const channel = `${options.prefix}:alerts:reload`;
  const statusKey = `${options.prefix}:alerts:rules-status`;
  const record = async (outcome: ReloadOutcome) => {
    await options.redis.hset(statusKey, options.workerId, JSON.stringify({ ...outcome, at: Date.now() }));
  };
  options.subscriber.on('message', (received: string) => {
    if (received !== channel) return;
    void options.source.reload('command').then(record, () => {});
  });
  await options.subscriber.subscribe(channel);
  await record(options.source.lastReload());
  return async () => {
    await options.subscriber.unsubscribe(channel);
    await options.redis.hdel(statusKey, options.workerId);
  };
}
