using System.Globalization;

namespace SpatialPrediction.ML.Cli;

/// <summary>A command's arguments: <c>--name value</c> options and <c>--flag</c> switches, checked against what the command knows.</summary>
internal sealed class CommandArguments
{
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);
    private readonly HashSet<string> flags = new(StringComparer.Ordinal);
    private readonly string command;

    private CommandArguments(string command) => this.command = command;

    /// <summary>Parses <paramref name="arguments"/>; unknown names and missing values are <see cref="UsageException"/>s.</summary>
    public static CommandArguments Parse(string command, IReadOnlyList<string> arguments, ISet<string> options, ISet<string> switches)
    {
        var parsed = new CommandArguments(command);
        for (int i = 0; i < arguments.Count; i++)
        {
            string name = arguments[i];
            if (!name.StartsWith("--", StringComparison.Ordinal))
                throw new UsageException($"'{name}' is not an option of '{command}'; options start with --. See 'spatial-prediction {command} --help'.");
            name = name[2..];
            if (switches.Contains(name)) parsed.flags.Add(name);
            else if (options.Contains(name))
            {
                if (i + 1 >= arguments.Count || arguments[i + 1].StartsWith("--", StringComparison.Ordinal))
                    throw new UsageException($"--{name} needs a value.");
                parsed.values[name] = arguments[++i];
            }
            else
            {
                string? close = options.Concat(switches).OrderBy(o => Distance(o, name)).FirstOrDefault();
                throw new UsageException($"Unknown option --{name} for '{command}'." + (close is not null && Distance(close, name) <= 3 ? $" Did you mean --{close}?" : "") +
                                         $" See 'spatial-prediction {command} --help'.");
            }
        }
        return parsed;
    }

    public bool Has(string flag) => flags.Contains(flag);

    public string? Text(string name) => values.GetValueOrDefault(name);

    public string Required(string name)
        => values.TryGetValue(name, out var value) ? value : throw new UsageException($"'{command}' needs --{name}. See 'spatial-prediction {command} --help'.");

    public IEnumerable<KeyValuePair<string, string>> All => values;

    /// <summary>Converts an option's text to <paramref name="type"/> (numbers in invariant culture, enums by name), or explains.</summary>
    public static object Convert(string name, string text, Type type)
    {
        try
        {
            if (type.IsEnum)
            {
                if (Enum.TryParse(type, text, ignoreCase: true, out var value) && Enum.IsDefined(type, value!)) return value!;
                throw new UsageException($"--{name} '{text}' is not one of {string.Join(", ", Enum.GetNames(type))}.");
            }
            if (type == typeof(bool)) return bool.Parse(text);
            return System.Convert.ChangeType(text, type, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new UsageException($"--{name} '{text}' is not a valid {type.Name}.");
        }
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        for (int j = 1; j <= b.Length; j++)
            d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}

/// <summary>A mistake in how the command was called: printed with no stack trace, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
