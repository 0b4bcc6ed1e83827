import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ParleyServer } from '../../src/app/server';
import { useInstances } from '../support/server';

// Docker cannot run here: the stack is checked by parsing its files, and the dashboard's metrics
// against a running instance's /metrics.
const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Service {
  build?: unknown;
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

const setup = useInstances(1);
let server: ParleyServer;
beforeAll(() => ({ a: server } = setup));

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, Redis, two instances built from the Dockerfile, nginx, Prometheus and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['grafana', 'nginx', 'parley1', 'parley2', 'postgres', 'prometheus', 'redis'].sort(),
    );
    for (const name of ['parley1', 'parley2']) expect(services[name].build).toBe('.');
    expect(read('Dockerfile')).toMatch(/FROM node:20\S* AS build[\s\S]*FROM node:20/);
  });

  it('has no default secret', () => {
    for (const name of ['parley1', 'parley2'])
      expect(services[name].environment!.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?/);
    expect(services.grafana.environment!.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
  });

  it('publishes only nginx beyond this machine, and nginx does not serve /metrics', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) {
        if (name !== 'nginx') expect(port).toMatch(/^127\.0\.0\.1:/);
      }
    }
    const nginx = read('.deploy/nginx.conf');
    const locations = [...nginx.matchAll(/location\s+([^{]+)\{/g)].map((m) => m[1].trim());
    for (const location of locations) expect(location).not.toMatch(/metrics/);
    expect(locations).toContain('/');
    expect(nginx).toMatch(/location \/ \{\s*return 404;/);
  });

  it('has Prometheus scrape each instance and Grafana provision it and the dashboard', () => {
    const prometheus = parse(read('.deploy/prometheus.yml')) as {
      scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    expect(targets.sort()).toEqual(['parley1:4000', 'parley2:4000']);
    const datasource = parse(read('.deploy/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { url: string; uid: string }[];
    };
    expect(datasource.datasources[0].url).toBe('http://prometheus:9090');
    expect(services.grafana.volumes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\.\/\.deploy\/grafana\/dashboards:\/var\/lib\/grafana\/dashboards/),
      ]),
    );
  });
});

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(read('.deploy/grafana/dashboards/parley.json')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };

  it('has the panels an operator needs', () => {
    expect(dashboard.panels.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        'Messages/s',
        'Delivery latency',
        'WebSockets',
        'Subscriptions',
        'Errors by code',
        'Event-loop lag p99',
        'Queue depth',
        'Pub/sub lag',
        'Pub/sub topics',
      ]),
    );
  });

  it('queries only metrics a running instance exposes', async () => {
    const text = await (await fetch(server.url.replace(/\/graphql$/, '/metrics'))).text();
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map((m) => m[1]));
    const queried = new Set(
      dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/\bparley_[a-z0-9_]+/g) ?? [])),
    );
    expect(queried.size).toBeGreaterThan(5);
    const missing = [...queried].filter(
      (name) => !exposed.has(name) && !exposed.has(name.replace(/_(bucket|sum|count)$/, '')),
    );
    expect(missing).toEqual([]);
  });
});
