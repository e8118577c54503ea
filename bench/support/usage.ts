/** The options `parse` reads from the command line, or the script's usage on stderr and exit code 2 when they do not parse (an unknown option, a missing value). */
export function orUsage<T>(usage: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
    process.exit(2);
  }
}
