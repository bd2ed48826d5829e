import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { initWasm, Resvg } from '@resvg/resvg-wasm';

const FONT_DIRS = ['/usr/share/fonts', '/usr/local/share/fonts'];
const SANS = /^(DejaVuSans|LiberationSans-Regular|NotoSans-Regular|FreeSans|Arial)\.ttf$/i;

let ready: Promise<void> | undefined;

function findFiles(dir: string, depth = 0): string[] {
  if (depth > 4) return [];
  try {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? findFiles(join(dir, e.name), depth + 1) : SANS.test(e.name) ? [join(dir, e.name)] : [],
    );
  } catch {
    return [];
  }
}

let fonts: Uint8Array[] | undefined;
/** One sans-serif TrueType font from the usual font directories, if the system has one. */
function systemFonts(): Uint8Array[] {
  fonts ??= FONT_DIRS.flatMap((d) => findFiles(d))
    .slice(0, 1)
    .map((f) => readFileSync(f));
  return fonts;
}

/**
 * Renders an SVG to PNG with resvg compiled to WebAssembly (no native dependency). Text needs a
 * font: a sans-serif TTF from /usr/share/fonts is used when present; without one the image has
 * no text (the SVG next to it always has). Returns whether text could be drawn.
 */
export async function svgToPng(svg: string, scale = 2): Promise<{ png: Buffer; withText: boolean }> {
  ready ??= initWasm(readFileSync(createRequire(import.meta.url).resolve('@resvg/resvg-wasm/index_bg.wasm')));
  await ready;
  const fontBuffers = systemFonts();
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    font: { fontBuffers, defaultFontFamily: 'sans-serif' },
  });
  try {
    const image = resvg.render();
    const png = Buffer.from(image.asPng());
    image.free();
    return { png, withText: fontBuffers.length > 0 };
  } finally {
    resvg.free();
  }
}
