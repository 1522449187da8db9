// Error boundaries: a panel that throws while drawing shows why, and the
// rest of the dashboard stays; the one at the root keeps the page readable
// when anything else throws.
import { Component, ReactNode } from 'react';
import { errorText } from './text';

interface Props {
  /** fallback draws the error; the default is a plain message. */
  fallback?: (message: string) => ReactNode;
  /** resetKey: when it changes, the boundary tries its children again. */
  resetKey?: unknown;
  children: ReactNode;
}

export class ErrorBoundary extends Component<Props, { message: string | null; key: unknown }> {
  state = { message: null as string | null, key: this.props.resetKey };

  static getDerivedStateFromError(e: unknown) {
    return { message: errorText(e) };
  }

  static getDerivedStateFromProps(props: Props, state: { message: string | null; key: unknown }) {
    if (props.resetKey !== state.key) return { message: null, key: props.resetKey };
    return null;
  }

  componentDidCatch(e: unknown) {
    console.error('tenantgate UI:', e);
  }

  render() {
    if (this.state.message === null) return this.props.children;
    return this.props.fallback ? this.props.fallback(this.state.message) : <div className="error">{this.state.message}</div>;
  }
}

/** PanelBoundary wraps one dashboard panel. */
export function PanelBoundary({ children, resetKey }: { children: ReactNode; resetKey?: unknown }) {
  return (
    <ErrorBoundary
      resetKey={resetKey}
      fallback={(m) => (
        <div className="panel-error" data-testid="panel-crash">
          This panel could not be drawn: {m}
        </div>
      )}
    >
      {children}
    </ErrorBoundary>
  );
}

/** RootBoundary wraps the whole application. */
export function RootBoundary({ children }: { children: ReactNode }) {
  return (
    <ErrorBoundary
      fallback={(m) => (
        <div className="page" data-testid="app-crash">
          <h1>Something went wrong</h1>
          <p className="error">The page could not be drawn: {m}</p>
          <p>
            <a href="/app/dashboards">Back to the dashboards</a> or reload the page.
          </p>
        </div>
      )}
    >
      {children}
    </ErrorBoundary>
  );
}
