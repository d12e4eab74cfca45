import { useEffect } from 'react';
import { followFeatureLinks } from '../state/features-store';
import { useLab } from '../state/lab-store';
import { followLessons, useLessons } from '../state/lesson-store';
import { followRecovery } from '../state/recovery-store';
import { useRuns } from '../state/runs-store';
import { Banners } from './Banners';
import { DatasetLibrary } from './DatasetLibrary';
import { ErrorBoundary } from './ErrorBoundary';
import { FeaturePanel } from './FeaturePanel';
import { GpuDetails } from './GpuDetails';
import { LessonPanel } from './LessonPanel';
import { LiveCharts } from './LiveCharts';
import { ProxyGap } from './ProxyGap';
import { LongRunNotice } from './QuickPresets';
import { RunPanel } from './RunPanel';
import { RunSummary } from './RunSummary';
import { RunsPanel } from './RunsPanel';
import { SharePanel } from './SharePanel';
import { StatusLine } from './StatusLine';
import { SweepPanel } from './SweepPanel';
import { saeLabHook } from './test-hook';

/**
 * The lab: run panel on the left; status, live curves and the end-of-run summary on the right; the dataset
 * library and the GPU details below.
 */
export function App() {
  useEffect(() => {
    saeLabHook();
    void useLab
      .getState()
      .init()
      .then(() => useRuns.getState().init());
    followRecovery();
    followLessons();
    followFeatureLinks();
  }, []);
  const present = useLessons((s) => s.present);

  return (
    <main className={present ? 'app present' : 'app'}>
      <header>
        <h1>SAE Lab</h1>
        <p className="tagline">Sparse autoencoders, trained in your browser on your GPU.</p>
      </header>
      <Banners />
      <SharePanel />
      <LessonPanel />
      <StatusLine />
      <LongRunNotice />
      <div className="lab">
        <ErrorBoundary name="run">
          <RunPanel />
        </ErrorBoundary>
        <div className="lab-main">
          <ErrorBoundary name="charts">
            <LiveCharts />
          </ErrorBoundary>
          <ErrorBoundary name="summary">
            <RunSummary />
          </ErrorBoundary>
          <ErrorBoundary name="proxy gap">
            <ProxyGap />
          </ErrorBoundary>
        </div>
      </div>
      <RunsPanel />
      <ErrorBoundary name="features">
        <FeaturePanel />
      </ErrorBoundary>
      <ErrorBoundary name="sweeps">
        <SweepPanel />
      </ErrorBoundary>
      <div className="datasets-section">
        <ErrorBoundary name="library">
          <DatasetLibrary />
        </ErrorBoundary>
      </div>
      <ErrorBoundary name="GPU details">
        <GpuDetails />
      </ErrorBoundary>
    </main>
  );
}
