const MAX_NAME_LENGTH = 100

/**
 * The client's file name made safe to show and to put in a Content-Disposition header:
 * no path parts, no control, format or lone surrogate characters, no leading dots, at most 100 characters
 * (keeping the extension). Never used as a path: stored files are named by the server.
 */
export function sanitizeFileName (raw: string | undefined, fallbackExtension: string): string {
  const base = (raw ?? '').normalize('NFC').split(/[/\\]/).pop() ?? ''
  let name = base
    .replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu, '')
    .replace(/\s+/g, ' ')
    .replace(/^[\s.]+/, '')
    .trim()
  if (name === '') name = `image.${fallbackExtension}`
  if (name.length > MAX_NAME_LENGTH) {
    const dot = name.lastIndexOf('.')
    const extension = dot > 0 && name.length - dot <= 10 ? name.slice(dot) : ''
    name = Array.from(name.slice(0, name.length - extension.length)).slice(0, MAX_NAME_LENGTH - extension.length).join('') + extension
  }
  return name
}
