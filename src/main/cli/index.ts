// The `tessera` command: the same services as the window, without one.
//   tessera [--library DIR] [--json] <command> ...
// --json prints exactly one JSON document on stdout (the object, or an array for
// lists; `{"error": {...}}` on failure); progress and messages go to stderr.
// Exit codes: 0 ok, 1 failed, 2 usage.

import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { Command, CommanderError, Option } from 'commander'
import { type Job, type MethodInput, type MethodName, type MethodResult } from '../../shared/contract'
import { type ContractError } from '../../shared/result'
import { type AppContext, createContext } from '../context'
import { AppError } from '../errors'
import { startBrowserHost, RemoteHostRefusedError } from '../host/browser-host'
import { createDispatcher, type Dispatch } from '../host/dispatch'
import { type VerifyResult } from '../jobs'
import { resolveLibraryDir } from '../library/location'
import { createServices } from '../services'
import { APP_ROOT, APP_VERSION } from '../services/version'
import { seedOnFirstStart } from '../samples'
import { registerGalleryCommands } from '../gallery/cli'
import { registerModelCommands } from './models'
import { registerDatasetCommands } from '../datasets/cli'
import { registerCurateCommand } from '../curation/cli'
import { registerTrainCommand } from '../ml/train/cli'
import { registerClassifyCommand } from '../classify/cli'
import { registerLabelCommands } from '../labels/cli'

export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2

/** A failure already reported as a contract error; carries its exit code. */
class CliFailure extends Error {
  constructor(
    readonly error: ContractError,
    readonly exitCode: number
  ) {
    super(error.message)
  }
}

interface GlobalOptions {
  library?: string
  json?: boolean
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

function parsePort(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CommanderError(EXIT_USAGE, 'tessera.port', `--port must be 0..65535, not "${v}"`)
  return n
}

/** `argv`: the user's arguments, or process.argv itself (bin/tessera.js passes that). */
export async function main(argv: string[] = process.argv): Promise<number> {
  if (argv === process.argv) argv = argv.slice(2)
  let ctx: AppContext | null = null
  let dispatch: Dispatch | null = null
  let json = false
  let exitCode = EXIT_OK

  const program = new Command()
    .name('tessera')
    .description('Tessera Studio: curate, label, fine-tune, classify and generate with ImageGPT models.')
    .option('--library <dir>', 'library folder (default: $TESSERA_LIBRARY, else ./.tessera)')
    .option('--json', 'print one JSON document on stdout')
    .version(APP_VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError()

  const globals = (): GlobalOptions => program.opts<GlobalOptions>()

  const open = (host: 'cli' | 'browser' = 'cli'): { ctx: AppContext; dispatch: Dispatch } => {
    if (!ctx) {
      ctx = createContext({ libraryDir: resolveLibraryDir({ flag: globals().library }), host })
      dispatch = createDispatcher(createServices(ctx))
    }
    return { ctx, dispatch: dispatch! }
  }

  const call = async <M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodResult<M>> => {
    const r = await open().dispatch(method, input)
    if (!r.ok) throw new CliFailure(r.error, r.error.code === 'VALIDATION' ? EXIT_USAGE : EXIT_FAILED)
    return r.value as MethodResult<M>
  }

  /** Prints the value: JSON when --json, else `human(value)`. */
  const print = <T>(value: T, human: (v: T) => string): void => {
    if (json) process.stdout.write(JSON.stringify(value, null, 2) + '\n')
    else process.stdout.write(human(value) + '\n')
  }

  const jobLine = (j: Job): string =>
    `${j.id}  ${j.state.padEnd(11)} ${j.kind.padEnd(16)} ${(j.total !== null ? `${j.done}/${j.total}` : String(j.done)).padStart(11)}  ${j.title}`

  /** Runs a job in this process until it settles, with progress on stderr. */
  const runJobInForeground = async (jobId: string): Promise<Job> => {
    const { ctx } = open()
    let last = 0
    const off = ctx.bus.on('job.progress', (p) => {
      if (p.jobId !== jobId) return
      const now = Date.now()
      if (now - last < 1000 && p.done !== p.total) return
      last = now
      const eta = p.etaS !== null ? `, ${Math.ceil(p.etaS)} s left` : ''
      const rate = p.rate !== null ? ` (${p.rate.toFixed(1)}/s${eta})` : ''
      process.stderr.write(`${p.phase}: ${p.done}${p.total !== null ? `/${p.total}` : ''}${rate}\n`)
    })
    const interrupt = (): void => {
      process.stderr.write('Stopping; the job can be resumed with `tessera jobs resume`.\n')
      void ctx.jobs.close()
    }
    process.once('SIGINT', interrupt)
    process.once('SIGTERM', interrupt)
    try {
      ctx.jobs.start((row) => row.id === jobId)
      return await ctx.jobs.wait(jobId)
    } finally {
      off()
      process.off('SIGINT', interrupt)
      process.off('SIGTERM', interrupt)
    }
  }

  const jobOutcome = (job: Job): void => {
    if (job.state === 'failed') throw new CliFailure({ code: 'INTERNAL', message: `Job failed: ${job.error ?? 'no reason given'}` }, EXIT_FAILED)
    if (job.state !== 'done') throw new CliFailure({ code: 'CANCELLED', message: `Job ${job.id} is ${job.state}.` }, EXIT_FAILED)
  }

  // --- serve ---------------------------------------------------------------
  program
    .command('serve')
    .description('serve the studio to a browser on this machine')
    .addOption(new Option('--port <n>', 'port (0 = any free one)').argParser(parsePort).default(0))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--allow-remote', 'allow a --host that is not a loopback address')
    .option('--no-open', 'do not open a browser')
    .action(async (o: { port: number; host: string; allowRemote?: boolean; open: boolean }) => {
      const libraryDir = resolveLibraryDir({ flag: globals().library })
      const host = await startBrowserHost({
        library: libraryDir,
        port: o.port,
        host: o.host,
        allowRemote: !!o.allowRemote,
        rendererDir: join(APP_ROOT, 'out', 'renderer')
      })
      // Listen for Ctrl+C / SIGTERM from the start, so a stop during first-start seeding is clean too.
      const stopped = new Promise<void>((resolve) => {
        const stop = (): void => resolve()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      })
      print({ url: host.url, port: host.port, libraryPath: host.context.library.paths.root }, (v) => `Tessera Studio: ${v.url}`)
      process.stderr.write(`Library: ${host.context.library.paths.root}. Press Ctrl+C to stop.\n`)
      if (o.open) openBrowser(host.url)
      // First start with an empty library: the built-in models and the sample dataset (src/main/samples).
      void seedOnFirstStart(host.context).catch((e: unknown) => process.stderr.write(`Could not import the sample library: ${e instanceof Error ? e.message : String(e)}\n`))
      await stopped
      await host.close()
    })

  // --- info ----------------------------------------------------------------
  program
    .command('info')
    .description('what this studio is and where its library lives')
    .action(async () => {
      const info = await call('app.info', {})
      print(info, (i) => `${i.name} ${i.version}\nLibrary: ${i.libraryPath} (schema ${i.schemaVersion})\nPlatform: ${i.platform}`)
    })

  // --- dataset -------------------------------------------------------------
  const dataset = program.command('dataset').alias('datasets').description('datasets and their classes')
  const datasetHuman = (d: MethodResult<'datasets.get'>): string =>
    `${d.id}  ${d.name}  (${d.itemCount} items, ${d.labelledCount} labelled)${d.classes.length ? `\n  classes: ${d.classes.map((c) => c.name).join(', ')}` : ''}`
  dataset
    .command('list')
    .description('all datasets')
    .action(async () => {
      const list = await call('datasets.list', {})
      print(list, (l) => (l.length ? l.map(datasetHuman).join('\n') : 'No datasets yet.'))
    })
  dataset
    .command('create <name>')
    .description('create an empty dataset')
    .option('--class <name>', 'a class (repeat for more)', collect, [])
    .option('--description <text>', 'what the dataset is')
    .action(async (name: string, o: { class: string[]; description?: string }) => {
      const d = await call('datasets.create', { name, classes: o.class, ...(o.description !== undefined ? { description: o.description } : {}) })
      print(d, datasetHuman)
    })
  dataset
    .command('rename <ref> <name>')
    .description('rename a dataset')
    .action(async (ref: string, name: string) => print(await call('datasets.rename', { ref, name }), datasetHuman))
  dataset
    .command('delete <ref>')
    .description('delete a dataset with its items and labels')
    .action(async (ref: string) => print(await call('datasets.delete', { ref }), (r) => `Deleted ${r.id}`))
  const datasetHelpers = {
    call,
    print,
    runJob: runJobInForeground,
    jobOutcome,
    fail: () => {
      exitCode = EXIT_FAILED
    }
  }
  registerDatasetCommands(dataset, datasetHelpers)
  registerCurateCommand(dataset, datasetHelpers)

  // --- jobs ----------------------------------------------------------------
  const jobs = program.command('jobs').alias('job').description('the job queue')
  jobs
    .command('list')
    .description('jobs, newest first')
    .option('--state <state>', 'only jobs in this state (repeat for more)', collect, [])
    .addOption(new Option('--limit <n>', 'at most this many').argParser((v) => Number(v)))
    .action(async (o: { state: string[]; limit?: number }) => {
      const input = { ...(o.state.length ? { states: o.state } : {}), ...(o.limit !== undefined ? { limit: o.limit } : {}) }
      const list = await call('jobs.list', input as MethodInput<'jobs.list'>)
      print(list, (l) => (l.length ? l.map(jobLine).join('\n') : 'No jobs.'))
    })
  jobs
    .command('show <id>')
    .action(async (id: string) => print(await call('jobs.get', { id }), (j) => `${jobLine(j)}${j.error ? `\n  ${j.error}` : ''}`))
  jobs
    .command('cancel <id>')
    .action(async (id: string) => print(await call('jobs.cancel', { id }), jobLine))
  jobs
    .command('pause <id>')
    .action(async (id: string) => print(await call('jobs.pause', { id }), jobLine))
  jobs
    .command('resume <id>')
    .description('resume a paused or interrupted job from its checkpoint, running it here')
    .option('--detach', 'only queue it (a running studio picks it up)')
    .action(async (id: string, o: { detach?: boolean }) => {
      const job = await call('jobs.resume', { id })
      if (o.detach) return print(job, jobLine)
      const final = await runJobInForeground(job.id)
      print(final, jobLine)
      jobOutcome(final)
    })

  // --- library -------------------------------------------------------------
  const library = program.command('library').description('the library folder')
  library
    .command('verify')
    .description('re-hash every media file; exits 1 when files are missing or changed')
    .action(async () => {
      const { ctx } = open()
      const queued = ctx.jobs.enqueue('library.verify', {})
      process.stderr.write(`Job ${queued.id}\n`)
      const final = await runJobInForeground(queued.id)
      print(final, (j) => {
        const r = j.result as VerifyResult | null
        return r ? `${r.checked} files checked: ${r.ok} ok, ${r.missing.length} missing, ${r.mismatched.length} changed.` : jobLine(j)
      })
      jobOutcome(final)
      const r = final.result as VerifyResult
      if (r.missing.length || r.mismatched.length) exitCode = EXIT_FAILED
    })

  // --- train ---------------------------------------------------------------
  registerTrainCommand(program, { open: () => open(), print, runJob: runJobInForeground, jobOutcome })

  // --- classify ------------------------------------------------------------
  registerClassifyCommand(program, { open: () => open(), print, runJob: runJobInForeground, jobOutcome })

  // --- label ---------------------------------------------------------------
  registerLabelCommands(program, { call, print, runJob: runJobInForeground, jobOutcome })

  // --- model, generate ------------------------------------------------------
  registerModelCommands(program, {
    call,
    print,
    open: () => open(),
    json: () => json,
    fail: () => {
      exitCode = EXIT_FAILED
    }
  })
  registerGalleryCommands(program, {
    call,
    print,
    open: () => open(),
    json: () => json,
    fail: () => {
      exitCode = EXIT_FAILED
    }
  })

  const report = (error: ContractError, code: number): number => {
    process.stderr.write(`tessera: ${error.message}\n`)
    if (json) process.stdout.write(JSON.stringify({ error }, null, 2) + '\n')
    return code
  }

  try {
    json = argv.includes('--json')
    await program.parseAsync(argv, { from: 'user' })
    return exitCode
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version succeed; help shown because a subcommand is missing is a usage error.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT_OK
      if (json) process.stdout.write(JSON.stringify({ error: { code: 'VALIDATION', message: e.message } }, null, 2) + '\n')
      return EXIT_USAGE
    }
    if (e instanceof CliFailure) return report(e.error, e.exitCode)
    if (e instanceof RemoteHostRefusedError) return report({ code: e.code, message: e.message }, EXIT_USAGE)
    if (e instanceof AppError) return report({ code: e.code, message: e.message }, e.code === 'VALIDATION' ? EXIT_USAGE : EXIT_FAILED)
    console.error(e)
    return report({ code: 'INTERNAL', message: 'Something went wrong; the details are above.' }, EXIT_FAILED)
  } finally {
    const c = ctx as AppContext | null
    if (c) await c.close()
  }
}

function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open'
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url]
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true })
    child.on('error', () => process.stderr.write(`Open ${url} in a browser.\n`))
    child.unref()
  } catch {
    process.stderr.write(`Open ${url} in a browser.\n`)
  }
}

// Run when executed directly (tsx src/main/cli/index.ts, or the built out/main/cli.js).
if (process.argv[1] && /(^|[\\/])(cli[\\/]index\.ts|cli\.js)$/.test(process.argv[1])) {
  void main().then((code) => {
    process.exitCode = code
  })
}
