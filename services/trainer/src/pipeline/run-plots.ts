import type { Logger } from '@fallback-ctr/runtime';
import { svgToPng } from '../png.js';
import { reliabilityDiagramSvg, rocCurveSvg } from '../svg-plots.js';
import type { HoldoutEvaluation } from './evaluate.js';

export interface RunPlot {
  name: 'reliability' | 'roc';
  svg: string;
  /** A PNG copy for viewers without SVG; undefined when it could not be rendered. */
  png: Buffer | undefined;
}

/**
 * The reliability diagram and ROC curve of the candidate (and the champion) on the holdout; `caption`
 * (the holdout's size and period) goes under each title.
 */
export async function holdoutPlots(
  evaluation: HoldoutEvaluation,
  logger: Logger,
  caption?: string,
): Promise<RunPlot[]> {
  const options = caption ? { subtitle: caption } : {};
  const { candidate, champion } = evaluation;
  // A champion trained on the same rows with the same settings scores exactly as the candidate: its
  // curves lie under the candidate's, and the legend says why only one is seen.
  const same =
    champion !== undefined &&
    champion !== null &&
    champion.metrics.auc === candidate.metrics.auc &&
    champion.metrics.logloss === candidate.metrics.logloss;
  const championLabel = champion ? `champion v${champion.version}${same ? ', same scores' : ''}` : '';
  const reliability = reliabilityDiagramSvg(
    'Reliability on the holdout',
    [
      { label: 'candidate', color: '#1f77b4', points: candidate.metrics.reliability },
      ...(champion ? [{ label: championLabel, color: '#ff7f0e', points: champion.metrics.reliability }] : []),
    ],
    options,
  );
  const roc = rocCurveSvg(
    'ROC curve on the holdout',
    [
      { label: `candidate (AUC ${candidate.metrics.auc.toFixed(4)})`, color: '#1f77b4', points: candidate.roc },
      ...(champion
        ? [
            {
              label: `${championLabel} (AUC ${champion.metrics.auc.toFixed(4)})`,
              color: '#ff7f0e',
              points: champion.roc,
            },
          ]
        : []),
    ],
    options,
  );
  const plots: RunPlot[] = [];
  for (const [name, svg] of [
    ['reliability', reliability],
    ['roc', roc],
  ] as const) {
    plots.push({ name, svg, png: await pngCopy(name, svg, logger) });
  }
  return plots;
}

// PNG copies are a convenience (the SVGs are the plots); a rendering problem never fails the run.
async function pngCopy(name: string, svg: string, logger: Logger): Promise<Buffer | undefined> {
  try {
    const rendered = await svgToPng(svg);
    if (!rendered.withText) logger.warn('no sans-serif font found under /usr/share/fonts: PNG plots have no text');
    return rendered.png;
  } catch (error) {
    logger.warn({ err: error, plot: name }, 'could not render the PNG copy of a plot');
    return undefined;
  }
}
