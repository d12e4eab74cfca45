import { useEffect } from 'react';
import { useLab } from '../state/lab-store';
import { followLessons, useLessons } from '../state/lesson-store';
import { followRecovery } from '../state/recovery-store';
import { Banners } from './Banners';
import { DatasetLibrary } from './DatasetLibrary';
import { GpuDetails } from './GpuDetails';
import { LessonPanel } from './LessonPanel';
import { LiveCharts } from './LiveCharts';
import { LongRunNotice } from './QuickPresets';
import { RunPanel } from './RunPanel';
import { RunSummary } from './RunSummary';
import { StatusLine } from './StatusLine';
import { saeLabHook } from './test-hook';

/**
 * The lab: run panel on the left; status, live curves and the end-of-run summary on the right; the dataset
 * library and the GPU details below.
 */
export function App() {
  useEffect(() => {
    saeLabHook();
    void useLab.getState().init();
    followRecovery();
    followLessons();
  }, []);
  const present = useLessons((s) => s.present);

  return (
    <main className={present ? 'app present' : 'app'}>
      <header>
        <h1>SAE Lab</h1>
        <p className="tagline">Sparse autoencoders, trained in your browser on your GPU.</p>
      </header>
      <Banners />
      <LessonPanel />
      <StatusLine />
      <LongRunNotice />
      <div className="lab">
        <RunPanel />
        <div className="lab-main">
          <LiveCharts />
          <RunSummary />
        </div>
      </div>
      <div className="datasets-section">
        <DatasetLibrary />
      </div>
      <GpuDetails />
    </main>
  );
}
