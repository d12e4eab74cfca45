/**
 * An error boundary around one panel: a panel that throws while rendering shows its error and a "report" text to
 * copy, and the rest of the lab keeps working (never a blank page).
 */
import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  /** Panel name, shown in the message and the report. */
  name: string;
  children: ReactNode;
}

interface State {
  error: Error | null;
  componentStack: string;
}

/** Catches render errors of its children (React class component: hooks cannot catch them). */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null, componentStack: '' };

  static getDerivedStateFromError(error: unknown): Partial<State> {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(_error: unknown, info: ErrorInfo): void {
    this.setState({ componentStack: info.componentStack ?? '' });
  }

  override render(): ReactNode {
    const { error, componentStack } = this.state;
    if (!error) return this.props.children;
    const report = [
      `SAE Lab: the ${this.props.name} panel failed`,
      `${error.name}: ${error.message || '(no message)'}`,
      `page: ${globalThis.location?.href ?? ''}`,
      `browser: ${globalThis.navigator?.userAgent ?? ''}`,
      error.stack ?? '',
      componentStack.trim(),
    ].join('\n');
    return (
      <section
        className="panel-error banner error"
        role="alert"
        data-testid="panel-error"
        data-panel={this.props.name}
      >
        <strong>The {this.props.name} panel failed</strong>: {error.message || error.name}. The rest of the
        lab still works.{' '}
        <button type="button" onClick={() => this.setState({ error: null, componentStack: '' })}>
          Try again
        </button>
        <details>
          <summary>Report (copy it into a bug report)</summary>
          <textarea
            readOnly
            rows={6}
            value={report}
            aria-label={`Error report of the ${this.props.name} panel`}
          />
        </details>
      </section>
    );
  }
}
