def main(args):
    return 'detector'
