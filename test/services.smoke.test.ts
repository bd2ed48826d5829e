import pg from 'pg';
import { describe, expect, it } from 'vitest';

describe('real services started by the global set-up', () => {
  it('PostgreSQL creates, writes and reads a table', async () => {
    const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      await client.query('CREATE TEMP TABLE smoke (id int PRIMARY KEY, note text)');
      await client.query('INSERT INTO smoke VALUES ($1, $2), ($3, $4)', [1, 'one', 2, 'two']);
      const { rows } = await client.query<{ id: number; note: string }>('SELECT id, note FROM smoke ORDER BY id');
      expect(rows).toEqual([
        { id: 1, note: 'one' },
        { id: 2, note: 'two' },
      ]);
    } finally {
      await client.end();
    }
  });

  it('MLflow creates an experiment and reads it back through its REST API', async () => {
    const base = process.env.MLFLOW_TRACKING_URI;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const name = `smoke-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const created = await fetch(`${base}/api/2.0/mlflow/experiments/create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    expect(created.status).toBe(200);
    const { experiment_id: id } = (await created.json()) as { experiment_id: string };
    const read = await fetch(
      `${base}/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`,
    );
    const body = (await read.json()) as { experiment: { experiment_id: string; name: string } };
    expect(body.experiment).toMatchObject({ experiment_id: id, name });
  });
});
