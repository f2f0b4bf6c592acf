/* cmd_devices.c: `bandmate devices`: the JACK ports and PortMidi devices bandmate can connect to. */
#include "engine/cli.h"
#include "engine/pm_driver.h"

#include <getopt.h>
#include <jack/jack.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bandmate devices [--server NAME]\n"
            "\n"
            "Lists the JACK ports (audio and MIDI, with their direction) of the running JACK server,\n"
            "and the hardware MIDI devices PortMidi sees. Use the names with 'bandmate run' (--in,\n"
            "--out, --midi-in, --midi-out, --pm-in, --pm-out) or in a patch's connect table.\n"
            "\n"
            "  --server NAME   the JACK server's name (default: $JACK_DEFAULT_SERVER or 'default')\n"
            "  -h, --help      this help\n");
}

static void silent(const char *m) { (void)m; }

int cmd_devices(int argc, char **argv)
{
    static const struct option opts[] = {{"server", required_argument, 0, 'S'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *server = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'S') server = optarg;
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "bandmate devices: '%s' is not an option here; 'bandmate devices --help' lists them.\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    jack_set_error_function(silent);
    jack_status_t status;
    jack_client_t *cl = server ? jack_client_open("bandmate-devices", JackNoStartServer | JackServerName, &status, server)
                               : jack_client_open("bandmate-devices", JackNoStartServer, &status);
    if (!cl) {
        printf("JACK: no server is running%s%s%s.\n", server ? " under the name '" : "", server ? server : "",
               server ? "'" : "");
    } else {
        printf("JACK server: %u Hz, %u frames per period\n", jack_get_sample_rate(cl), jack_get_buffer_size(cl));
        const char **ports = jack_get_ports(cl, NULL, NULL, 0);
        for (int i = 0; ports && ports[i]; i++) {
            jack_port_t *p = jack_port_by_name(cl, ports[i]);
            int fl = jack_port_flags(p);
            const char *type = jack_port_type(p);
            printf("  %-40s %-5s %s%s\n", ports[i], strstr(type, "midi") ? "midi" : "audio",
                   fl & JackPortIsInput ? "input (bandmate can play into it)" : "output (bandmate can listen to it)",
                   fl & JackPortIsPhysical ? ", physical" : "");
        }
        if (ports) jack_free(ports);
        jack_client_close(cl);
    }
    bm_pm_device devs[128];
    int n = pm_list_devices(devs, 128);
    if (n < 0) printf("PortMidi: could not start.\n");
    else if (n == 0) printf("PortMidi: no hardware MIDI devices found.\n");
    else {
        printf("PortMidi devices:\n");
        for (int i = 0; i < n; i++)
            printf("  %-40s %s%s%s (%s)\n", devs[i].name, devs[i].input ? "input" : "",
                   devs[i].input && devs[i].output ? " and " : "", devs[i].output ? "output" : "", devs[i].interf);
    }
    return 0;
}
