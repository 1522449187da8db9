// The "Load sample data" button: POST /api/sample_data/weblogs (a
// tenantgate extension) loads the generated web logs and their dashboard
// into the tenant, then the dashboard opens over the loaded time span.
import { useState } from 'react';
import { call } from './api';
import { navigate } from './router';

export function SampleDataButton({ tenant }: { tenant: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  return (
    <span className="sample-data">
      <button
        disabled={busy}
        data-testid="load-sample"
        title="Loads generated web logs (3,000 requests over the last 7 days) with an index pattern, visualizations and the “[Sample] Web logs” dashboard. Loading again replaces them."
        onClick={async () => {
          setBusy(true);
          setError('');
          try {
            const r = await call('POST', '/api/sample_data/weblogs', { tenant });
            navigate(r.url);
          } catch (e: any) {
            setError(`Loading sample data failed: ${e?.message ?? e}`);
            setBusy(false);
          }
        }}
      >
        {busy ? 'Loading sample data…' : 'Load sample data'}
      </button>
      {error && (
        <span className="error" data-testid="load-sample-error">
          {error}
        </span>
      )}
    </span>
  );
}
