using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Serilog;

namespace Ziya2.Kernel.Hosting;

/// <summary>
/// Logger setup: console on stderr (text or JSON) and, once a run directory exists, a log file in it. A data-parallel
/// rank other than 0 raises the console's level (<c>consoleLevel</c>) and shows scopes (its rank).
/// </summary>
public static class Logging
{
    public static ILoggerFactory Create(LogFormat format, LogLevel level, string? logFile = null, LogLevel? consoleLevel = null, bool scopes = false) =>
        LoggerFactory.Create(b =>
        {
            b.SetMinimumLevel(level);
            if (consoleLevel is { } console) b.AddFilter<ConsoleLoggerProvider>(null, console);
            // stderr keeps stdout clean for machine-readable command output (--json).
            if (format == LogFormat.Json)
                b.AddJsonConsole(o => { o.IncludeScopes = scopes; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ"; o.UseUtcTimestamp = true; });
            else
                b.AddSimpleConsole(o => { o.SingleLine = true; o.IncludeScopes = scopes; o.TimestampFormat = "HH:mm:ss "; o.ColorBehavior = Console.IsErrorRedirected ? LoggerColorBehavior.Disabled : LoggerColorBehavior.Default; });
            b.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            if (logFile is not null)
                b.AddSerilog(new LoggerConfiguration().MinimumLevel.Verbose()
                    .WriteTo.File(logFile, outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffzzz} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}")
                    .CreateLogger(), dispose: true);
        });
}
