using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Training;

/// <summary>
/// A training checkpoint on disk: every module's weights and buffers, the optimiser state, the step reached, the loss
/// history and the settings fingerprint. Written atomically (temporary file, flush to disk, rename), with the previous
/// checkpoint kept beside it, and verified by SHA-256 when read, so a kill at any moment leaves a readable checkpoint.
/// </summary>
/// <remarks>
/// Layout: magic "SPCKPT01", int32 format version, int64 payload length, 32-byte SHA-256 of the payload, payload.
/// Payload: fingerprint (string), completed steps (int32), SP validation loss before training (float32), step records
/// (int32 count, then step, epoch, host, SP, total, learning rate; from version 2 also λ, host, SP and total gradient
/// norms and the clipped flag), then each module's TorchSharp state
/// (<c>Module.save</c>) in a fixed order, then the optimiser state.
/// </remarks>
internal static class Checkpoint
{
    /// <summary>File name of the newest checkpoint in a checkpoint folder.</summary>
    public const string LatestFileName = "checkpoint.ckpt";
    /// <summary>File name of the one before it.</summary>
    public const string PreviousFileName = "checkpoint.previous.ckpt";

    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("SPCKPT01");
    private const int FormatVersion = 2;

    /// <summary>What a checkpoint restores besides module and optimiser state.</summary>
    /// <param name="Fingerprint">Settings fingerprint of the run that wrote it.</param>
    /// <param name="CompletedSteps">Optimiser steps done.</param>
    /// <param name="SpatialValidationLossBefore">SP validation loss measured before the first step.</param>
    /// <param name="Steps">Step records so far.</param>
    public sealed record State(string Fingerprint, int CompletedSteps, float SpatialValidationLossBefore, IReadOnlyList<StepRecord> Steps);

    /// <summary>Writes a checkpoint into <paramref name="directory"/>, keeping the previous one as a fallback.</summary>
    public static string Save(string directory, State state, IReadOnlyList<nn.Module> modules, optim.Optimizer optimizer)
    {
        Directory.CreateDirectory(directory);
        using var payload = new MemoryStream();
        using (var writer = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(state.Fingerprint);
            writer.Write(state.CompletedSteps);
            writer.Write(state.SpatialValidationLossBefore);
            writer.Write(state.Steps.Count);
            foreach (var s in state.Steps)
            {
                writer.Write(s.Step); writer.Write(s.Epoch); writer.Write(s.HostLoss); writer.Write(s.SpatialLoss);
                writer.Write(s.TotalLoss); writer.Write(s.LearningRate);
                writer.Write(s.SpatialWeight); writer.Write(s.HostGradientNorm); writer.Write(s.SpatialGradientNorm);
                writer.Write(s.GradientNorm); writer.Write(s.Clipped);
            }
            foreach (var module in modules) module.save(writer);
            ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
        }
        byte[] bytes = payload.ToArray();

        string latest = Path.Combine(directory, LatestFileName);
        string temporary = latest + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var writer = new BinaryWriter(file))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write((long)bytes.Length);
            writer.Write(SHA256.HashData(bytes));
            writer.Write(bytes);
            writer.Flush();
            file.Flush(flushToDisk: true);
        }
        if (File.Exists(latest)) File.Move(latest, Path.Combine(directory, PreviousFileName), overwrite: true);
        File.Move(temporary, latest);
        return latest;
    }

    /// <summary>
    /// Reads the newest valid checkpoint of <paramref name="directory"/> into the modules and the optimiser, after checking it
    /// was written under <paramref name="expectedFingerprint"/>. Returns
    /// null when the folder has none. A damaged newest checkpoint falls back to the previous one (reported through
    /// <paramref name="log"/>); when none is valid, the error names each file and what is wrong with it.
    /// </summary>
    /// <remarks>A checkpoint written before fingerprints were derived from the settings is compared with <paramref name="legacyFingerprint"/>.</remarks>
    public static (State State, string Path)? Load(string directory, string expectedFingerprint, IReadOnlyList<nn.Module> modules,
        optim.Optimizer optimizer, Action<string>? log = null, string? legacyFingerprint = null)
    {
        var candidates = new[] { LatestFileName, PreviousFileName }.Select(n => Path.Combine(directory, n)).Where(File.Exists).ToList();
        if (candidates.Count == 0) return null;
        var problems = new List<string>();
        foreach (var path in candidates)
        {
            byte[] payload;
            int version;
            try
            {
                (payload, version) = ReadVerified(path);
            }
            catch (InvalidDataException e)
            {
                problems.Add($"{path}: {e.Message}");
                log?.Invoke($"Checkpoint {path} is unusable ({e.Message}); trying the previous one.");
                continue;
            }
            using var reader = new BinaryReader(new MemoryStream(payload), Encoding.UTF8);
            string fingerprint = reader.ReadString();
            bool legacy = !fingerprint.StartsWith(SettingsFingerprint.Prefix, StringComparison.Ordinal);
            if (fingerprint != (legacy && legacyFingerprint is not null ? legacyFingerprint : expectedFingerprint))
                throw new InvalidOperationException(
                    $"Checkpoint {path} was written by a run with different settings, so resuming from it would not give the run " +
                    $"these settings describe. Use another CheckpointDirectory, or delete the folder to start over.\n" +
                    $"  checkpoint: {fingerprint}\n  this run:   {expectedFingerprint}");
            int completed = reader.ReadInt32();
            float before = reader.ReadSingle();
            int count = reader.ReadInt32();
            var steps = new List<StepRecord>(count);
            for (int i = 0; i < count; i++)
            {
                var step = new StepRecord(reader.ReadInt32(), reader.ReadInt32(), reader.ReadSingle(), reader.ReadSingle(), reader.ReadSingle(), reader.ReadDouble());
                if (version >= 2)
                    step = step with
                    {
                        SpatialWeight = reader.ReadSingle(), HostGradientNorm = reader.ReadSingle(), SpatialGradientNorm = reader.ReadSingle(),
                        GradientNorm = reader.ReadSingle(), Clipped = reader.ReadBoolean(),
                    };
                steps.Add(step);
            }
            foreach (var module in modules) module.load(reader, strict: true);
            ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(reader);
            return (new State(fingerprint, completed, before, steps), path);
        }
        throw new InvalidDataException("No usable checkpoint in " + directory + ": " + string.Join("; ", problems) +
                                       ". Delete the folder to start over.");
    }

    private static (byte[] Payload, int Version) ReadVerified(string path)
    {
        using var file = File.OpenRead(path);
        using var reader = new BinaryReader(file);
        if (file.Length < Magic.Length + 4 + 8 + 32 || !reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
            throw new InvalidDataException("not a SpatialPrediction checkpoint (bad header)");
        int version = reader.ReadInt32();
        if (version is < 1 or > FormatVersion) throw new InvalidDataException($"format version {version}, expected 1 to {FormatVersion}");
        long length = reader.ReadInt64();
        byte[] expected = reader.ReadBytes(32);
        if (length < 0 || length != file.Length - file.Position)
            throw new InvalidDataException($"truncated: header promises {length} payload bytes, file has {file.Length - file.Position}");
        byte[] payload = reader.ReadBytes((int)length);
        if (!SHA256.HashData(payload).AsSpan().SequenceEqual(expected))
            throw new InvalidDataException("checksum mismatch (the file is corrupted)");
        return (payload, version);
    }
}
