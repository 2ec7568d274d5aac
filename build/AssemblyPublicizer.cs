// Compiled by RoslynCodeTaskFactory at build time (see MLNetInternals.targets). Writes a copy of an assembly in which
// every type, method and field is public, for the compiler only: the program still runs against the real, signed
// ML.NET assemblies, and [IgnoresAccessChecksTo] in the library tells the runtime to allow the access.
#nullable enable
using System;
using System.IO;
using System.Linq;
using System.Reflection;
using Microsoft.Build.Framework;

namespace SpatialPrediction.ML.Build
{
    /// <summary>MSBuild task: writes publicised copies of <see cref="Assemblies"/> into <see cref="OutputDirectory"/>.</summary>
    public sealed class PublicizeAssemblies : Microsoft.Build.Utilities.Task
    {
        /// <summary>The assemblies to copy.</summary>
        [Required]
        public ITaskItem[] Assemblies { get; set; } = new ITaskItem[0];

        /// <summary>Where the copies go (file names are kept).</summary>
        [Required]
        public string OutputDirectory { get; set; } = "";

        /// <summary>Path of Mono.Cecil.dll, loaded on demand.</summary>
        [Required]
        public string CecilPath { get; set; } = "";

        /// <summary>The copies, with the metadata of their originals.</summary>
        [Output]
        public ITaskItem[] Publicized { get; set; } = new ITaskItem[0];

        public override bool Execute()
        {
            // MSBuild does not know where Mono.Cecil lives; resolve it from the restored package before first use.
            AppDomain.CurrentDomain.AssemblyResolve += ResolveCecil;
            try
            {
                Directory.CreateDirectory(OutputDirectory);
                Publicized = Assemblies.Select(Copy).ToArray();
                return !Log.HasLoggedErrors;
            }
            finally
            {
                AppDomain.CurrentDomain.AssemblyResolve -= ResolveCecil;
            }
        }

        private Assembly? ResolveCecil(object? sender, ResolveEventArgs args)
            => new AssemblyName(args.Name).Name == "Mono.Cecil" ? Assembly.LoadFrom(CecilPath) : null;

        private ITaskItem Copy(ITaskItem item)
        {
            string source = item.ItemSpec;
            string target = Path.Combine(OutputDirectory, Path.GetFileName(source));
            if (!File.Exists(target) || File.GetLastWriteTimeUtc(target) < File.GetLastWriteTimeUtc(source))
            {
                Rewrite(source, target);
                Log.LogMessage(MessageImportance.Normal, "Publicized {0} -> {1}", source, target);
            }
            var copy = new Microsoft.Build.Utilities.TaskItem(target);
            item.CopyMetadataTo(copy);
            return copy;
        }

        private static void Rewrite(string source, string target)
        {
            var resolver = new Mono.Cecil.DefaultAssemblyResolver();
            resolver.AddSearchDirectory(Path.GetDirectoryName(source));
            using var module = Mono.Cecil.ModuleDefinition.ReadModule(source, new Mono.Cecil.ReaderParameters { AssemblyResolver = resolver });
            foreach (var type in module.GetTypes())
            {
                if (type.IsNested) type.IsNestedPublic = true;
                else type.IsPublic = true;
                foreach (var method in type.Methods) method.IsPublic = true;
                var memberNames = new System.Collections.Generic.HashSet<string>(type.Events.Select(e => e.Name).Concat(type.Properties.Select(p => p.Name)));
                foreach (var field in type.Fields)
                {
                    // An event's backing field shares its name; a public twin would make every use ambiguous.
                    if (!memberNames.Contains(field.Name)) field.IsPublic = true;
                }
            }
            string temporary = target + ".tmp";
            module.Write(temporary);
            module.Dispose();
            if (File.Exists(target)) File.Delete(target);
            File.Move(temporary, target);
        }
    }
}
