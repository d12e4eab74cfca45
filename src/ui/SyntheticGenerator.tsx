/**
 * The synthetic-data generator of the dataset library: a dataset with known true features made in the browser
 * (src/data/synthetic.ts), no file needed. After training on it, the summary shows the feature recovery.
 */
import { useId, useState } from 'react';
import { datasetStore } from '../data/store';
import { type SyntheticSpec, storeSyntheticDataset, validateSyntheticSpec } from '../data/synthetic';
import { useLab } from '../state/lab-store';

interface Fields {
  dModel: string;
  nFeatures: string;
  nTokens: string;
  seed: string;
  meanActive: string;
  firing: 'uniform' | 'zipf';
  exponent: string;
  magnitude: 'uniform' | 'exponential';
  magMin: string;
  magMax: string;
  magMean: string;
  overlap: string;
  groupSize: string;
  correlation: string;
  noise: string;
}

const INITIAL: Fields = {
  dModel: '32',
  nFeatures: '64',
  nTokens: '16384',
  seed: '1',
  meanActive: '4',
  firing: 'uniform',
  exponent: '1.2',
  magnitude: 'uniform',
  magMin: '0.5',
  magMax: '1.5',
  magMean: '1',
  overlap: '0',
  groupSize: '1',
  correlation: '0',
  noise: '0',
};

function toSpec(f: Fields): SyntheticSpec {
  const n = Number;
  const group = n(f.groupSize);
  return {
    dModel: n(f.dModel),
    nFeatures: n(f.nFeatures),
    nTokens: n(f.nTokens),
    seed: n(f.seed),
    overlap: n(f.overlap),
    firing:
      f.firing === 'zipf'
        ? { kind: 'zipf', exponent: n(f.exponent), meanActive: n(f.meanActive) }
        : { kind: 'uniform', meanActive: n(f.meanActive) },
    magnitude:
      f.magnitude === 'exponential'
        ? { kind: 'exponential', mean: n(f.magMean) }
        : { kind: 'uniform', min: n(f.magMin), max: n(f.magMax) },
    ...(group > 1 ? { groups: { size: group, correlation: n(f.correlation) } } : {}),
    noiseStd: n(f.noise),
  };
}

function NumberField(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  testId: string;
  step?: string;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="number"
        step={props.step ?? 'any'}
        value={props.value}
        data-testid={props.testId}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </div>
  );
}

/** The generator form (collapsed by default). */
export function SyntheticGenerator() {
  const [f, setF] = useState<Fields>(INITIAL);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const set = (k: keyof Fields) => (v: string) => setF((x) => ({ ...x, [k]: v }));
  const spec = toSpec(f);
  const problems = validateSyntheticSpec(spec);
  const firingId = useId();
  const magId = useId();
  const generate = async () => {
    setBusy(true);
    setMessage(null);
    try {
      const m = await storeSyntheticDataset(datasetStore(), spec);
      await useLab.getState().refreshDatasets();
      useLab.getState().selectDataset(m.id);
      setMessage({
        kind: 'ok',
        text: `Generated "${m.name}" (${m.nTokens} tokens) and selected it for training.`,
      });
    } catch (e) {
      setMessage({ kind: 'error', text: `The synthetic dataset could not be made: ${(e as Error).message}` });
    } finally {
      setBusy(false);
    }
  };
  return (
    <details className="synthetic-generator" data-testid="synthetic-generator">
      <summary>Generate synthetic data with known features (no file needed)</summary>
      <p className="hint">
        n_features true unit directions in d_model, each firing with its own probability and a random
        magnitude: x = Σ fires·a·f_i + noise. After training, the summary shows how many true features the SAE
        recovered.
      </p>
      <div className="synthetic-fields">
        <NumberField label="d_model" value={f.dModel} onChange={set('dModel')} testId="syn-dModel" step="1" />
        <NumberField
          label="n_features (true)"
          value={f.nFeatures}
          onChange={set('nFeatures')}
          testId="syn-nFeatures"
          step="1"
        />
        <NumberField
          label="tokens"
          value={f.nTokens}
          onChange={set('nTokens')}
          testId="syn-nTokens"
          step="1"
        />
        <NumberField label="seed" value={f.seed} onChange={set('seed')} testId="syn-seed" step="1" />
        <NumberField
          label="mean active features / token"
          value={f.meanActive}
          onChange={set('meanActive')}
          testId="syn-meanActive"
        />
        <div className="field">
          <label htmlFor={firingId}>firing probabilities</label>
          <select
            id={firingId}
            value={f.firing}
            data-testid="syn-firing"
            onChange={(e) => set('firing')(e.target.value)}
          >
            <option value="uniform">uniform</option>
            <option value="zipf">Zipf</option>
          </select>
        </div>
        {f.firing === 'zipf' && (
          <NumberField
            label="Zipf exponent"
            value={f.exponent}
            onChange={set('exponent')}
            testId="syn-exponent"
          />
        )}
        <div className="field">
          <label htmlFor={magId}>magnitudes</label>
          <select id={magId} value={f.magnitude} onChange={(e) => set('magnitude')(e.target.value)}>
            <option value="uniform">uniform [min, max)</option>
            <option value="exponential">exponential (mean)</option>
          </select>
        </div>
        {f.magnitude === 'uniform' ? (
          <>
            <NumberField label="min" value={f.magMin} onChange={set('magMin')} testId="syn-magMin" />
            <NumberField label="max" value={f.magMax} onChange={set('magMax')} testId="syn-magMax" />
          </>
        ) : (
          <NumberField label="mean" value={f.magMean} onChange={set('magMean')} testId="syn-magMean" />
        )}
        <NumberField
          label="pairwise overlap ρ"
          value={f.overlap}
          onChange={set('overlap')}
          testId="syn-overlap"
        />
        <NumberField
          label="correlated group size (1 = none)"
          value={f.groupSize}
          onChange={set('groupSize')}
          testId="syn-groupSize"
          step="1"
        />
        {Number(f.groupSize) > 1 && (
          <NumberField
            label="group correlation"
            value={f.correlation}
            onChange={set('correlation')}
            testId="syn-correlation"
          />
        )}
        <NumberField label="noise σ" value={f.noise} onChange={set('noise')} testId="syn-noise" />
      </div>
      {problems.length > 0 && (
        <ul className="error" role="alert" data-testid="syn-errors">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      <button
        type="button"
        data-testid="synthetic-generate"
        disabled={busy || problems.length > 0}
        onClick={() => void generate()}
      >
        {busy ? 'Generating…' : 'Generate dataset'}
      </button>
      {message && (
        <p
          className={message.kind === 'error' ? 'error' : 'hint'}
          role={message.kind === 'error' ? 'alert' : 'status'}
          data-testid="synthetic-message"
        >
          {message.text}
        </p>
      )}
    </details>
  );
}
